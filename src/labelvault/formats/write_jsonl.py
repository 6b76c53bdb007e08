"""JSONL export: one record per line, exactly as given (the lossless format)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson


def iter_jsonl(records: Iterable[dict[str, Any]], *, chunk_bytes: int) -> Iterator[bytes]:
    """Yield the records as JSON lines, batched into chunks of about `chunk_bytes`."""
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    # Lines are copied into one buffer rather than kept: orjson hands back bytes objects
    # with kilobytes of spare capacity, so holding thousands of them would cost far more
    # memory than their length suggests.
    buffer = bytearray()
    for record in records:
        buffer += dumps(record, option=option)
        if len(buffer) >= chunk_bytes:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)
