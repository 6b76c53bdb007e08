"""Parquet export: one row per item, annotations as a list of structs.

Rows are gathered into row groups (by count and by bytes) and written to a sink that is
emptied after every row group, so only one row group is ever held in memory.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_RECORDS = 20_000
ROW_GROUP_BYTES = 32 << 20

ANNOTATION_TYPE = pa.struct(
    [
        ("annotator", pa.string()),
        ("submitted_at", pa.string()),
        ("schema_version", pa.int32()),
        ("status", pa.string()),
        ("values", pa.string()),
    ]
)


def parquet_schema(*, with_consensus: bool = False) -> pa.Schema:
    """Columns: id, external_id, data (JSON), annotations, and consensus (JSON) if asked."""
    fields = [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("external_id", pa.string()),
        pa.field("data", pa.string()),
        pa.field("annotations", pa.list_(ANNOTATION_TYPE)),
    ]
    if with_consensus:
        fields.append(pa.field("consensus", pa.string()))
    return pa.schema(fields)


class _DrainableSink:
    """A write-only file for ParquetWriter whose written bytes can be taken out at any time.

    The writer records file offsets via tell(), so the position keeps counting even though
    the bytes themselves are handed on and dropped.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


_OFFSETS = "i"  # C int: 32 bits on every platform pyarrow supports, as Arrow offsets are


class _JsonColumn:
    """A string column of JSON texts, packed straight into Arrow's offsets + data layout.

    Packing avoids keeping one bytes object per value: orjson returns bytes with kilobytes
    of spare capacity, which would multiply a row group's memory.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.offsets = array(_OFFSETS, [0])

    def append(self, encoded: bytes) -> None:
        self.data += encoded
        self.offsets.append(len(self.data))

    def to_arrow(self) -> pa.Array:
        return pa.StringArray.from_buffers(
            len(self.offsets) - 1, pa.py_buffer(self.offsets), pa.py_buffer(self.data)
        )


class _RowGroup:
    """Column buffers for one row group."""

    def __init__(self, with_consensus: bool) -> None:
        self.with_consensus = with_consensus
        self.ids: list[int] = []
        self.external_ids: list[Any] = []
        self.data = _JsonColumn()
        self.consensus: list[str | None] = []
        self.offsets = array(_OFFSETS, [0])
        self.annotators: list[Any] = []
        self.submitted_at: list[Any] = []
        self.schema_versions: list[Any] = []
        self.statuses: list[Any] = []
        self.values = _JsonColumn()

    @property
    def size(self) -> int:
        return len(self.data.data) + len(self.values.data)

    def add(self, record: dict[str, Any]) -> None:
        dumps = orjson.dumps
        self.ids.append(record["id"])
        self.external_ids.append(record.get("external_id"))
        self.data.append(dumps(record.get("data")))
        if self.with_consensus:
            consensus = record.get("consensus")
            self.consensus.append(None if consensus is None else dumps(consensus).decode())
        annotations = record.get("annotations") or ()
        for annotation in annotations:
            self.values.append(dumps(annotation.get("values")))
            self.annotators.append(annotation.get("annotator"))
            self.submitted_at.append(_iso(annotation.get("submitted_at")))
            self.schema_versions.append(annotation.get("schema_version"))
            self.statuses.append(annotation.get("status"))
        self.offsets.append(self.offsets[-1] + len(annotations))

    def __len__(self) -> int:
        return len(self.ids)

    def to_table(self, schema: pa.Schema) -> pa.Table:
        annotations = pa.StructArray.from_arrays(
            [
                pa.array(self.annotators, pa.string()),
                pa.array(self.submitted_at, pa.string()),
                pa.array(self.schema_versions, pa.int32()),
                pa.array(self.statuses, pa.string()),
                self.values.to_arrow(),
            ],
            fields=list(ANNOTATION_TYPE),
        )
        columns = [
            pa.array(self.ids, pa.int64()),
            pa.array(self.external_ids, pa.string()),
            self.data.to_arrow(),
            pa.ListArray.from_arrays(
                _int32_array(self.offsets), annotations, type=pa.list_(ANNOTATION_TYPE)
            ),
        ]
        if self.with_consensus:
            columns.append(pa.array(self.consensus, pa.string()))
        return pa.Table.from_arrays(columns, schema=schema)


def _int32_array(values: array[int]) -> pa.Array:
    return pa.Array.from_buffers(pa.int32(), len(values), [None, pa.py_buffer(values)])


def _iso(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else str(value)


def iter_parquet(
    records: Iterable[dict[str, Any]],
    *,
    chunk_bytes: int,
    with_consensus: bool = False,
    row_group_records: int = ROW_GROUP_RECORDS,
    row_group_bytes: int = ROW_GROUP_BYTES,
) -> Iterator[bytes]:
    """Yield a zstd-compressed Parquet file in pieces of at most `chunk_bytes`."""
    schema = parquet_schema(with_consensus=with_consensus)
    sink = _DrainableSink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    try:
        group = _RowGroup(with_consensus)
        for record in records:
            group.add(record)
            if len(group) >= row_group_records or group.size >= row_group_bytes:
                writer.write_table(group.to_table(schema), row_group_size=len(group))
                group = _RowGroup(with_consensus)
                yield from _pieces(sink.drain(), chunk_bytes)
        if len(group):
            writer.write_table(group.to_table(schema), row_group_size=len(group))
    finally:
        writer.close()
        # Hand the row groups' buffers back to the system: Arrow's allocator keeps freed
        # memory for reuse, which would leave a long-running server at its export peak.
        pa.default_memory_pool().release_unused()
    yield from _pieces(sink.drain(), chunk_bytes)


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    if len(data) <= size:
        if data:
            yield data
        return
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])
