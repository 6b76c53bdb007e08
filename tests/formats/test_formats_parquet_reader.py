from __future__ import annotations

import datetime as dt
import decimal
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelvault.errors import BadRequest
from labelvault.formats import ParsedItem, RowError, read_items
from labelvault.formats.read_parquet import read_parquet


def parquet_bytes(table: pa.Table, **kwargs: int) -> io.BytesIO:
    sink = io.BytesIO()
    pq.write_table(table, sink, **kwargs)
    sink.seek(0)
    return sink


def test_rows_become_items_with_nested_values_as_python() -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, None], pa.int64()),
            "text": ["a", "b", "c"],
            "tags": [["x"], [], None],
            "meta": [{"k": 1}, {"k": 2}, {"k": None}],
        }
    )
    assert list(read_items(parquet_bytes(table), "parquet")) == [
        ParsedItem(1, "1", {"text": "a", "tags": ["x"], "meta": {"k": 1}}),
        ParsedItem(2, "2", {"text": "b", "tags": [], "meta": {"k": 2}}),
        ParsedItem(3, None, {"text": "c", "tags": None, "meta": {"k": None}}),
    ]


def test_row_numbers_run_across_batches_and_row_groups() -> None:
    table = pa.table({"id": [f"r{i}" for i in range(25)], "n": list(range(25))})
    stream = parquet_bytes(table, row_group_size=10)
    items = list(read_parquet(stream, batch_rows=4))
    assert [item.line for item in items] == list(range(1, 26))
    assert items[-1] == ParsedItem(25, "r24", {"n": 24})


def test_label_studio_shaped_rows_use_data_as_the_payload() -> None:
    table = pa.table({"id": ["t1"], "data": [{"text": "hi"}]})
    assert list(read_items(parquet_bytes(table), "parquet")) == [
        ParsedItem(1, "t1", {"text": "hi"})
    ]


def test_values_that_are_not_json_types_are_converted() -> None:
    table = pa.table(
        {
            "when": pa.array([dt.datetime(2024, 5, 1, 12, 30)], pa.timestamp("us")),
            "day": pa.array([dt.date(2024, 5, 1)]),
            "price": pa.array([decimal.Decimal("12.34")], pa.decimal128(6, 2)),
            "blob": pa.array([b"text"], pa.binary()),
            "raw": pa.array([b"\xff\x00"], pa.binary()),
            "attrs": pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64())),
        }
    )
    (item,) = read_items(parquet_bytes(table), "parquet")
    assert item == ParsedItem(
        1,
        None,
        {
            "when": "2024-05-01T12:30:00",
            "day": "2024-05-01",
            "price": "12.34",
            "blob": "text",
            "raw": "/wA=",
            "attrs": {"a": 1},
        },
    )


def test_a_float_id_is_a_row_error() -> None:
    table = pa.table({"id": [1.5], "t": ["x"]})
    (error,) = read_items(parquet_bytes(table), "parquet")
    assert isinstance(error, RowError)
    assert error.line == 1
    assert error.message.startswith("row 1: id must be a string or an integer")


def test_a_body_that_is_not_parquet_is_a_bad_request() -> None:
    with pytest.raises(BadRequest) as caught:
        list(read_items(io.BytesIO(b"PAR1 but not really"), "parquet"))
    assert "not a readable Parquet file" in caught.value.detail


def test_a_stream_that_cannot_seek_is_a_bad_request() -> None:
    class Unseekable(io.RawIOBase):
        def seekable(self) -> bool:
            return False

    with pytest.raises(BadRequest):
        list(read_items(Unseekable(), "parquet"))
