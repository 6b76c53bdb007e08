"""One entry point for every import format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from labelvault.errors import BadRequest
from labelvault.formats.detect import IMPORT_FORMATS
from labelvault.formats.items import ParsedItem, RowError
from labelvault.formats.read_csv import read_csv
from labelvault.formats.read_json_list import read_json_list
from labelvault.formats.read_jsonl import read_jsonl
from labelvault.formats.read_parquet import read_parquet

DEFAULT_MAX_ROW_BYTES = 1_048_576


def read_items(
    stream: BinaryIO, fmt: str, *, max_row_bytes: int = DEFAULT_MAX_ROW_BYTES
) -> Iterator[ParsedItem | RowError]:
    """Stream the items of an upload, one ParsedItem or RowError per row, in file order.

    Memory stays flat whatever the file size: the stream is read in chunks and a row over
    `max_row_bytes` is reported as a RowError instead of being held. Problems with the whole
    file (unknown format, not a JSON list, unreadable Parquet, bad CSV header) raise
    BadRequest: the unknown format at once, the others when iteration starts.
    """
    if max_row_bytes < 1:
        raise ValueError("max_row_bytes must be positive")
    if fmt == "jsonl":
        return read_jsonl(stream, max_row_bytes=max_row_bytes)
    if fmt == "json":
        return read_json_list(stream, max_row_bytes=max_row_bytes)
    if fmt == "csv":
        return read_csv(stream, max_row_bytes=max_row_bytes)
    if fmt == "parquet":
        return read_parquet(stream)
    raise BadRequest(
        f"unknown import format {fmt!r}", hint=f"use one of: {', '.join(IMPORT_FORMATS)}"
    )
