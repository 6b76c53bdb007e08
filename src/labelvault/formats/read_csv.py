"""Streaming CSV reader: a header row, then one item per record; every cell is a string.

The text is decoded through `io.TextIOWrapper` (quoted newlines, CRLF, BOM) and each
physical line is read with a length bound, so one enormous line cannot exhaust memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from labelvault.errors import BadRequest
from labelvault.formats.items import (
    ParsedItem,
    RowError,
    RowProblem,
    normalize_external_id,
    oversized_message,
)

_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of undecodable bytes
_NEWLINES = ("\n", "\r")
_PANDAS_HINT = "name every column in the header row (with pandas, write with index=False)"


class _OverlongLine(Exception):
    def __init__(self, line: int, size: int) -> None:
        super().__init__(line, size)
        self.line = line
        self.size = size


class _BoundedLines:
    """Physical lines of the text, each at most `limit` characters; counts what it hands out."""

    def __init__(self, text: io.TextIOWrapper, limit: int) -> None:
        self._text = text
        self._limit = limit
        self.count = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._limit + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) <= self._limit or line.endswith(_NEWLINES):
            return line
        size = _utf8_len(line)
        while line and not line.endswith(_NEWLINES):
            line = self._text.readline(1 << 16)
            size += _utf8_len(line.rstrip("\r\n"))
        raise _OverlongLine(self.count, size)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _as_text(stream: BinaryIO) -> io.TextIOWrapper:
    buffered: Any = stream
    if not isinstance(stream, io.IOBase):
        buffered = io.BufferedReader(_RawReader(stream))
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="surrogateescape", newline="")


class _RawReader(io.RawIOBase):
    """Adapts any object with `read(n)` to the io stack that TextIOWrapper expects."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_header(reader: Any, lines: _BoundedLines) -> list[str] | None:
    try:
        header: list[str] = next(reader)
    except StopIteration:
        return None
    except _OverlongLine as exc:
        raise BadRequest(
            f"the CSV header row is {exc.size} bytes long",
            hint="the first row must be a header naming each column",
        ) from None
    except csv.Error as exc:
        raise BadRequest(f"the CSV header row is malformed: {exc}", hint=_PANDAS_HINT) from None
    if _NOT_UTF8.search("".join(header)):
        raise BadRequest(
            "the CSV header row is not valid UTF-8 text", hint="save the file with UTF-8 encoding"
        )
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise BadRequest(f"column {position} of the CSV header has no name", hint=_PANDAS_HINT)
        if name in seen:
            raise BadRequest(
                f"column {name!r} appears more than once in the CSV header",
                hint="give every column a distinct name",
            )
        seen.add(name)
    return header


def read_csv(stream: BinaryIO, *, max_row_bytes: int) -> Iterator[ParsedItem | RowError]:
    """Yield one ParsedItem or RowError per record; `line` is the record's first line.

    The header is line 1. A column named `id` becomes the external id (empty cell: none).
    A malformed header raises BadRequest. A record with an oversized line that started
    earlier (inside a quoted cell) cannot be resynchronised, so reading stops there.
    """
    if csv.field_size_limit() < max_row_bytes:
        csv.field_size_limit(max_row_bytes)
    text = _as_text(stream)
    try:
        lines = _BoundedLines(text, max_row_bytes)
        reader = csv.reader(lines)
        header = _read_header(reader, lines)
        if header is None:
            return
        yield from _records(reader, lines, header, max_row_bytes)
    finally:
        text.detach()  # leave the caller's stream open


def _records(
    reader: Any, lines: _BoundedLines, header: list[str], max_row_bytes: int
) -> Iterator[ParsedItem | RowError]:
    n_columns = len(header)
    has_id = "id" in header
    while True:
        start = lines.count + 1
        try:
            row: list[str] = next(reader)
        except StopIteration:
            return
        except _OverlongLine as exc:
            yield RowError(start, oversized_message(f"line {start}", exc.size, max_row_bytes))
            if exc.line == start:
                continue
            return  # the long line was inside a quoted cell: the rest cannot be trusted
        except csv.Error as exc:
            yield RowError(
                start,
                f"line {start}: malformed CSV ({exc}); reading stopped here, "
                "check the quoting of this record",
            )
            return
        if not row or not any(row):
            continue  # blank lines, and spreadsheet rows with every cell empty
        if len(row) != n_columns:
            yield RowError(
                start,
                f"line {start}: expected {n_columns} columns as in the header, got {len(row)}; "
                "quote cells that contain commas and give every row the same columns",
            )
            continue
        joined = "".join(row)
        if len(joined) * 4 > max_row_bytes:  # a character is at most 4 bytes in UTF-8
            size = _utf8_len(joined)
            if size > max_row_bytes:
                yield RowError(start, oversized_message(f"line {start}", size, max_row_bytes))
                continue
        if _NOT_UTF8.search(joined):
            yield RowError(
                start, f"line {start}: not valid UTF-8 text; save the file with UTF-8 encoding"
            )
            continue
        payload = dict(zip(header, row, strict=True))
        external_id = None
        if has_id:
            try:
                external_id = normalize_external_id(payload.pop("id") or None)
            except RowProblem as exc:
                yield RowError(start, f"line {start}: {exc}")
                continue
        yield ParsedItem(start, external_id, payload)
