"""Streaming reader for a JSON list of objects (`[{...}, {...}]`).

The body is never decoded whole. A small scanner finds where each list element ends
(tracking brackets and strings only, jumping between them with a regex), then the
element's bytes alone go to `orjson.loads`. Because element boundaries are found
without parsing, a malformed element is reported and reading resumes at the next one,
and an oversized element is skipped without ever being held in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

import orjson

from labelvault.errors import BadRequest
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
_SIGNIFICANT = re.compile(rb"[^ \t\r\n]")
_STRUCTURAL = re.compile(rb'["\[\]{}]')  # outside strings, only these change nesting
_STRING_SPECIAL = re.compile(rb'["\\]')  # inside strings, only these matter
_SCALAR_END = re.compile(rb"[ \t\r\n,\]]")
_OPENERS = b"[{"
_OPEN_OBJECT = ord("{")
# Where an object element most likely ends: "}" then "," and the next object, or the list end.
_LIKELY_OBJECT_END = re.compile(rb"\}[ \t\r\n]*(?:,[ \t\r\n]*\{|\])")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")
_COMMA = ord(",")
_CLOSE_LIST = ord("]")

_NOT_A_LIST_HINT = (
    'Send a JSON list of objects ([{"text": "..."}, ...]) or one JSON object per line (JSONL).'
)


class _Oversized:
    """An element that was skipped because it is larger than the row limit."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size


class _JsonListReader:
    def __init__(self, stream: BinaryIO, max_row_bytes: int, chunk_bytes: int) -> None:
        self._stream = stream
        self._max_row_bytes = max_row_bytes
        self._chunk_bytes = chunk_bytes
        self._buf = b""
        self._pos = 0  # everything before _pos has been consumed
        self._eof = False

    def _read_more(self) -> bool:
        """Drop the consumed prefix and append the next chunk; False at end of stream."""
        if self._eof:
            return False
        chunk = read_chunk(self._stream, self._chunk_bytes)
        if not chunk:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + chunk if self._pos < len(self._buf) else chunk
        self._pos = 0
        return True

    def _peek_significant(self) -> int:
        """Move past whitespace; return the next byte without consuming it, or -1 at the end."""
        while True:
            match = _SIGNIFICANT.search(self._buf, self._pos)
            if match is not None:
                self._pos = match.start()
                return self._buf[self._pos]
            self._pos = len(self._buf)
            if not self._read_more():
                return -1

    def _find_element_end(self) -> int | _Oversized | None:
        """Return the length of the element starting at `self._pos`.

        The scanner state survives buffer refills: positions are kept relative to the element
        start, which stays at `self._pos`. An element over the row limit is scanned to its end
        while its bytes are dropped, and reported as `_Oversized`. None: the stream ends
        inside the element.
        """
        first = self._buf[self._pos]
        scalar = first not in _OPENERS and first != _QUOTE
        depth = 1 if first in _OPENERS else 0
        in_string = first == _QUOTE
        escaped = False
        offset = 1  # relative to self._pos
        skipped = -1  # >= 0 once the element is too big and its bytes are being discarded
        while True:
            buf = self._buf
            i = self._pos + offset
            end = len(buf)
            found = -1
            if scalar:
                match = _SCALAR_END.search(buf, i)
                if match is not None:
                    found = match.start()
                i = end
            else:
                while i < end:
                    if in_string:
                        if escaped:
                            i += 1
                            escaped = False
                            continue
                        match = _STRING_SPECIAL.search(buf, i)
                        if match is None:
                            i = end
                            break
                        i = match.end()
                        if buf[match.start()] == _BACKSLASH:
                            escaped = True
                            continue
                        in_string = False
                        if depth == 0:
                            found = i
                            break
                    else:
                        match = _STRUCTURAL.search(buf, i)
                        if match is None:
                            i = end
                            break
                        i = match.end()
                        byte = buf[match.start()]
                        if byte == _QUOTE:
                            in_string = True
                        elif byte in _OPENERS:
                            depth += 1
                        else:
                            depth -= 1
                            if depth == 0:
                                found = i
                                break
            if found >= 0:
                if skipped >= 0:
                    size = skipped + (found - self._pos)
                    self._pos = found
                    return _Oversized(size)
                return found - self._pos
            offset = i - self._pos
            if skipped < 0 and offset > self._max_row_bytes:
                skipped = 0
            if skipped >= 0:
                # Forget the bytes scanned so far; only the scanner state is kept.
                skipped += offset
                self._pos = len(buf)
                offset = 0
            if not self._read_more():
                if scalar and skipped < 0:
                    return offset  # a scalar may end with the stream
                return None

    def _try_object_fast(self, index: int) -> ParsedItem | RowError | None:
        """Parse the object at `self._pos` by guessing its end; None if the guess fails.

        If the bytes up to a guessed "}" parse as a complete JSON value, that value is the
        element: a JSON parser reading the same bytes left to right stops at the same place.
        A failed guess costs one parse and the exact scanner takes over.
        """
        buf = self._buf
        start = self._pos
        match = _LIKELY_OBJECT_END.search(buf, start)
        if match is None:
            return None
        end = match.start() + 1
        if end - start > self._max_row_bytes:
            return None
        try:
            obj = orjson.loads(buf[start:end])
        except orjson.JSONDecodeError:
            return None
        self._pos = end
        try:
            return item_from_object(index, obj)
        except RowProblem as exc:
            return RowError(index, f"item {index}: {exc}")

    def items(self) -> Iterator[ParsedItem | RowError]:
        while len(self._buf) < len(_BOM) and self._read_more():
            pass
        if self._buf.startswith(_BOM):
            self._pos = len(_BOM)
        first = self._peek_significant()
        if first == -1:
            return
        if first != ord("["):
            raise BadRequest(
                f"the body is not a JSON list: it starts with {_show(first)} instead of '['",
                hint=_NOT_A_LIST_HINT,
            )
        self._pos += 1
        index = 0
        expect_element = True
        while True:
            byte = self._peek_significant()
            if byte == -1:
                yield RowError(
                    index + 1,
                    f"item {index + 1}: the JSON list ends without its closing ']'; "
                    "the file may be truncated, check that it was uploaded completely",
                )
                return
            if byte == _CLOSE_LIST:
                self._pos += 1
                if self._peek_significant() != -1:
                    yield RowError(
                        index + 1,
                        f"item {index + 1}: unexpected content after the closing ']' of the "
                        "list; put every item inside the list",
                    )
                return
            if not expect_element:
                if byte == _COMMA:
                    self._pos += 1
                    expect_element = True
                    continue
                yield RowError(
                    index + 1,
                    f"item {index + 1}: expected ',' or ']' after item {index}, found "
                    f"{_show(byte)}; separate items with commas",
                )
                return
            index += 1
            if byte == _COMMA:
                self._pos += 1
                yield RowError(index, f"item {index}: empty item between two commas; remove one")
                continue
            expect_element = False
            if byte == _OPEN_OBJECT:
                item = self._try_object_fast(index)
                if item is not None:
                    yield item
                    continue
            length = self._find_element_end()
            if length is None:
                yield RowError(
                    index,
                    f"item {index}: invalid JSON: the file ends inside this item; "
                    "check that it was uploaded completely",
                )
                return
            if isinstance(length, _Oversized):
                message = oversized_message(f"item {index}", length.size, self._max_row_bytes)
                yield RowError(index, message)
                continue
            start = self._pos
            self._pos = start + length
            if length > self._max_row_bytes:
                yield RowError(
                    index, oversized_message(f"item {index}", length, self._max_row_bytes)
                )
                continue
            yield _parse_element(index, self._buf[start : self._pos])


def _show(byte: int) -> str:
    return repr(chr(byte)) if 0x20 <= byte < 0x7F else f"byte 0x{byte:02x}"


def _parse_element(index: int, raw: bytes) -> ParsedItem | RowError:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("str is not valid UTF-8"):
            return RowError(
                index, f"item {index}: not valid UTF-8 text; save the file with UTF-8 encoding"
            )
        return RowError(
            index, f"item {index}: invalid JSON: {exc.msg} at character {exc.pos + 1} of the item"
        )
    if type(obj) is not dict:
        return RowError(index, f"item {index}: expected a JSON object, got {json_type_name(obj)}")
    try:
        return item_from_object(index, obj)
    except RowProblem as exc:
        return RowError(index, f"item {index}: {exc}")


def read_json_list(
    stream: BinaryIO, *, max_row_bytes: int, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[ParsedItem | RowError]:
    """Yield one ParsedItem or RowError per list element; `line` is the 1-based element index.

    A body that is not a list raises BadRequest; a list that breaks off mid-way yields a
    RowError for the point where it broke and stops there.
    """
    return _JsonListReader(stream, max_row_bytes, chunk_bytes).items()
