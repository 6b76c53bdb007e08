"""Streamed request bodies and atomic downloads: files never pass through memory whole."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from labelvault.errors import InvalidInput

CHUNK_BYTES = 256 * 1024
NDJSON_BATCH_BYTES = 64 * 1024

NDJSON = "application/x-ndjson"
CONTENT_TYPES: dict[str, str] = {
    "jsonl": NDJSON,
    "ndjson": NDJSON,
    "json": "application/json",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
}
_FORMAT_NAMES = ", ".join(sorted(CONTENT_TYPES))

Progress = Callable[[int], None]


def content_type_for(path: Path, format: str | None) -> str:
    """The import content type: from `format` when given, else from the file's extension."""
    name = (format or path.suffix.lstrip(".")).lower()
    if name in CONTENT_TYPES:
        return CONTENT_TYPES[name]
    if format:
        raise InvalidInput(f"unknown import format {format!r}", hint=f"use one of: {_FORMAT_NAMES}")
    raise InvalidInput(
        f"cannot tell the format of {path.name!r} from its extension",
        hint=f"use a .jsonl, .json, .csv or .parquet name, or pass format= one of: {_FORMAT_NAMES}",
    )


def file_chunks(path: Path, progress: Progress | None) -> Iterator[bytes]:
    """The file in fixed-size chunks, reporting bytes handed to the network so far."""
    sent = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            sent += len(chunk)
            yield chunk
            if progress is not None:
                progress(sent)


def ndjson_chunks(items: Iterable[Mapping[str, Any]], progress: Progress | None) -> Iterator[bytes]:
    """Items as NDJSON, batched into chunks of about 64 KiB; reports items sent so far."""
    buffer: list[bytes] = []
    size = 0
    count = 0
    for index, item in enumerate(items, start=1):
        buffer.append(_ndjson_line(item, index))
        size += len(buffer[-1])
        count = index
        if size >= NDJSON_BATCH_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
            if progress is not None:
                progress(count)
    if buffer:
        yield b"".join(buffer)
    if progress is not None:
        progress(count)


def _ndjson_line(item: Mapping[str, Any], index: int) -> bytes:
    if not isinstance(item, Mapping):
        raise InvalidInput(
            f"item {index} is a {type(item).__name__}, not a mapping",
            hint="pass an iterable of dicts, one per item ('id' is the optional external id)",
        )
    try:
        line = json.dumps(dict(item), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"item {index} cannot be encoded as JSON: {exc}",
            hint="convert values such as datetimes, sets or NaN to strings, lists or numbers",
        ) from None
    return line.encode() + b"\n"


class AtomicFile:
    """A file written beside its target and renamed over it only when complete.

    A reader never sees a half-written export, and a failed download leaves the old file alone.
    The temporary file is created private (0600): exports hold confidential data.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = Path(target)
        fd, temp = tempfile.mkstemp(
            dir=self.target.parent, prefix=f".{self.target.name}.", suffix=".part"
        )
        self.temp_path = Path(temp)
        self._handle = os.fdopen(fd, "wb")
        self.written = 0

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)
        self.written += len(chunk)

    def commit(self) -> Path:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self.temp_path, self.target)
        return self.target

    def discard(self) -> None:
        self._handle.close()
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
