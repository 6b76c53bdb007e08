"""Reading a binary stream in chunks of a useful size."""

from __future__ import annotations

from typing import BinaryIO


def read_chunk(stream: BinaryIO, size: int) -> bytes:
    """Read up to `size` bytes, calling `read` again after short reads; b"" at the end.

    Network bodies often arrive in small pieces; gathering them into one chunk keeps the
    readers' work per chunk (and the copying of a partial row) independent of piece size.
    """
    first = stream.read(size)
    if not first or len(first) >= size:
        return first
    parts = [first]
    total = len(first)
    while total < size:
        piece = stream.read(size - total)
        if not piece:
            break
        parts.append(piece)
        total += len(piece)
    return b"".join(parts)
