"""Stream doubles for the formats tests (a module name unique across tests/)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class TrickleStream:
    """A binary body that hands out at most `step` bytes per read, like a slow network."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = data
        self._step = step
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = len(self._data)
        size = min(size, self._step)
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk


class GeneratedStream:
    """A binary body produced on the fly from pieces, so the test never holds it whole."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces: Iterator[bytes] = iter(pieces)
        self._pending: bytes | None = None
        self.total = 0

    def read(self, size: int = -1) -> bytes:
        """Return whole pieces up to `size` bytes (more only if one piece is bigger)."""
        parts: list[bytes] = []
        length = 0
        while size < 0 or length < size:
            piece = self._pending if self._pending is not None else next(self._pieces, None)
            self._pending = None
            if piece is None:
                break
            if parts and size >= 0 and length + len(piece) > size:
                self._pending = piece
                break
            parts.append(piece)
            length += len(piece)
        self.total += length
        return b"".join(parts)
