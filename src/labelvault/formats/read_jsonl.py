"""Streaming JSONL (NDJSON) reader: one JSON object per line, read in fixed-size chunks.

Speed matters here (imports of millions of lines), so the hot loop does one `split`
per chunk and one `orjson.loads` per line; every unusual case (blank line, bad JSON,
external id, oversized row) is handled off the fast path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from labelvault.formats.items import (
    ParsedItem,
    RowError,
    RowProblem,
    item_from_object,
    json_type_name,
    oversized_message,
)
from labelvault.formats.streams import read_chunk

CHUNK_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"


def read_jsonl(
    stream: BinaryIO, *, max_row_bytes: int, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[ParsedItem | RowError]:
    """Yield one ParsedItem or RowError per non-blank line; `line` is the 1-based line number."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    line_no = 0
    tail = b""  # the incomplete last line of what has been read so far
    skipped = -1  # bytes of an oversized line discarded so far; -1 when not skipping
    while True:
        chunk = read_chunk(stream, chunk_bytes)
        if not chunk:
            break
        if skipped >= 0:
            newline = chunk.find(b"\n")
            if newline < 0:
                skipped += len(chunk)
                continue
            line_no += 1
            yield _oversized(line_no, skipped + newline, max_row_bytes)
            skipped = -1
            chunk = chunk[newline + 1 :]
        data = tail + chunk if tail else chunk
        lines = data.split(b"\n")
        tail = lines.pop()
        if len(tail) > max_row_bytes:
            skipped, tail = len(tail), b""
        if line_no == 0 and lines and lines[0].startswith(_BOM):
            lines[0] = lines[0][len(_BOM) :]
        for line in lines:
            line_no += 1
            if len(line) > max_row_bytes:
                yield _oversized(line_no, len(line), max_row_bytes)
                continue
            try:
                obj = loads(line)
            except decode_error as exc:
                if line.strip():
                    yield RowError(line_no, _decode_message(line_no, exc))
                continue
            if type(obj) is dict and "id" not in obj and "data" not in obj:
                yield ParsedItem(line_no, None, obj)
            else:
                yield _slow_item(line_no, obj)
    if skipped >= 0:
        yield _oversized(line_no + 1, skipped, max_row_bytes)
    elif tail:
        if line_no == 0 and tail.startswith(_BOM):
            tail = tail[len(_BOM) :]
        yield from read_jsonl_line(line_no + 1, tail)


def read_jsonl_line(line_no: int, line: bytes) -> Iterator[ParsedItem | RowError]:
    """Parse one line (without its newline); yields nothing for a blank line."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if line.strip():
            yield RowError(line_no, _decode_message(line_no, exc))
        return
    yield _slow_item(line_no, obj)


def _slow_item(line_no: int, obj: Any) -> ParsedItem | RowError:
    if not isinstance(obj, dict):
        return RowError(
            line_no, f"line {line_no}: expected a JSON object, got {json_type_name(obj)}"
        )
    try:
        return item_from_object(line_no, obj)
    except RowProblem as exc:
        return RowError(line_no, f"line {line_no}: {exc}")


def _decode_message(line_no: int, exc: orjson.JSONDecodeError) -> str:
    if exc.msg.startswith("str is not valid UTF-8"):
        return f"line {line_no}: not valid UTF-8 text; save the file with UTF-8 encoding"
    return f"line {line_no}: invalid JSON: {exc.msg} at column {exc.colno}"


def _oversized(line_no: int, size: int, limit: int) -> RowError:
    return RowError(line_no, oversized_message(f"line {line_no}", size, limit))
