"""One entry point for every export format, streaming bytes for a response or a file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from labelvault.errors import BadRequest
from labelvault.formats.write_csv import iter_csv
from labelvault.formats.write_jsonl import iter_jsonl
from labelvault.formats.write_parquet import iter_parquet

EXPORT_FORMATS = ("jsonl", "csv", "parquet")
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
FILE_EXTENSIONS = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}


def check_export_format(fmt: str) -> str:
    """Return `fmt` if it can be exported, else raise BadRequest naming the allowed formats."""
    if fmt not in EXPORT_FORMATS:
        raise BadRequest(
            f"unknown export format {fmt!r}",
            hint=f"use one of: {', '.join(EXPORT_FORMATS)}",
        )
    return fmt


def iter_export(
    records: Iterable[dict[str, Any]],
    fmt: str,
    *,
    chunk_bytes: int = 1 << 20,
    flatten_fields: Sequence[str] | None = None,
    with_consensus: bool = False,
) -> Iterator[bytes]:
    """Stream export records as `fmt`, in chunks of about `chunk_bytes`.

    A record is `{"id": int, "external_id": str | None, "data": {...}, "annotations":
    [{"annotator", "values", "submitted_at", "schema_version", "status", ...}],
    "consensus": ... (optional)}`. JSONL writes each record unchanged; CSV writes a row
    per annotation (`flatten_fields` adds a column per answer field); Parquet writes a row
    per item. `with_consensus` adds a `consensus` JSON column to CSV and Parquet.
    The format is checked here, before any byte is produced, so a bad format fails the
    request instead of breaking a stream already under way.
    """
    check_export_format(fmt)
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes must be positive")
    if fmt == "jsonl":
        return iter_jsonl(records, chunk_bytes=chunk_bytes)
    if fmt == "csv":
        return iter_csv(
            records,
            chunk_bytes=chunk_bytes,
            flatten_fields=flatten_fields or (),
            with_consensus=with_consensus,
        )
    return iter_parquet(records, chunk_bytes=chunk_bytes, with_consensus=with_consensus)
