"""Readers and writers keep memory flat: peak use stays far below the size of the data."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from formats_streams import GeneratedStream

from labelvault.formats import ParsedItem, iter_export, read_items
from labelvault.formats.write_parquet import iter_parquet

N = 30_000
PEAK_LIMIT = 8 << 20
PADDING = "x" * 1000


def peak_while(run: Callable[[], int]) -> tuple[int, int]:
    """Return (peak traced bytes, bytes processed) for `run`.

    Libraries import submodules lazily on first use; a first run outside the trace keeps
    that one-off cost out of the measurement.
    """
    consume(iter_export(records(10), "parquet"))
    tracemalloc.start()
    try:
        processed = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, processed


def records(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "id": i,
            "external_id": f"doc-{i}",
            "data": {"text": f"sentence number {i} to label", "padding": "p" * 500},
            "annotations": [
                {
                    "annotator": "a@example.com",
                    "values": {"label": "pos"},
                    "submitted_at": "2024-05-01T12:00:00+00:00",
                    "schema_version": 1,
                    "status": "submitted",
                }
            ],
        }


def consume(chunks: Iterator[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def test_jsonl_export_holds_one_chunk_at_a_time() -> None:
    peak, size = peak_while(lambda: consume(iter_export(records(2 * N), "jsonl")))
    assert size > 4 * PEAK_LIMIT
    assert peak < PEAK_LIMIT


def test_parquet_export_holds_one_row_group_at_a_time() -> None:
    peak, size = peak_while(
        lambda: consume(iter_parquet(records(N), chunk_bytes=1 << 20, row_group_records=3000))
    )
    assert size > 0
    # The columns of all 30k records would take about 20 MB before compression.
    assert peak < PEAK_LIMIT


def count_items(stream: GeneratedStream, fmt: str) -> int:
    count = 0
    for row in read_items(stream, fmt):
        assert isinstance(row, ParsedItem)
        count += 1
    assert count == N
    return stream.total


def test_jsonl_import_reads_in_chunks() -> None:
    lines = (orjson.dumps({"id": i, "text": PADDING}) + b"\n" for i in range(N))
    peak, size = peak_while(lambda: count_items(GeneratedStream(lines), "jsonl"))
    assert size > 3 * PEAK_LIMIT
    assert peak < PEAK_LIMIT


def test_json_list_import_reads_in_chunks() -> None:
    def body() -> Iterator[bytes]:
        yield b"["
        for i in range(N):
            yield (b"," if i else b"") + orjson.dumps({"id": i, "text": PADDING})
        yield b"]"

    peak, size = peak_while(lambda: count_items(GeneratedStream(body()), "json"))
    assert size > 3 * PEAK_LIMIT
    assert peak < PEAK_LIMIT


def test_csv_import_reads_in_chunks() -> None:
    def body() -> Iterator[bytes]:
        yield b"id,text\n"
        for i in range(N):
            yield b"%d,%s\n" % (i, PADDING.encode())

    peak, size = peak_while(lambda: count_items(GeneratedStream(body()), "csv"))
    assert size > 3 * PEAK_LIMIT
    assert peak < PEAK_LIMIT
