from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelvault.errors import BadRequest
from labelvault.formats import EXPORT_FORMATS, MEDIA_TYPES, iter_export
from labelvault.formats.write_parquet import iter_parquet


def annotation(annotator: str, values: Any, status: str = "submitted") -> dict[str, Any]:
    return {
        "annotator": annotator,
        "values": values,
        "submitted_at": "2024-05-01T12:00:00+00:00",
        "schema_version": 1,
        "status": status,
        "lead_time_ms": 1200,
    }


RECORDS: list[dict[str, Any]] = [
    {
        "id": 1,
        "external_id": "doc-1",
        "data": {"text": 'caf\u00e9, "quoted"\nnew line'},
        "annotations": [
            annotation("ann@example.com", {"label": "pos", "score": 4}),
            annotation("bob@example.com", {"label": "neg", "score": 2, "tags": ["a"]}),
        ],
        "consensus": {"label": "pos", "confidence": 0.7},
    },
    {"id": 2, "external_id": None, "data": {"text": "no answers yet"}, "annotations": []},
    {
        "id": 3,
        "external_id": '=HYPERLINK("http://x")',
        "data": {"text": "t"},
        "annotations": [annotation("-carol@example.com", {"label": "@SUM(A1)"}, "skipped")],
    },
]


def export(records: list[dict[str, Any]], fmt: str, **kwargs: Any) -> list[bytes]:
    return list(iter_export(iter(records), fmt, **kwargs))


def test_media_types_cover_every_export_format() -> None:
    assert set(MEDIA_TYPES) == set(EXPORT_FORMATS) == {"jsonl", "csv", "parquet"}


def test_unknown_format_fails_before_any_byte_is_produced() -> None:
    def never_read() -> Any:
        raise AssertionError("records must not be read")
        yield

    with pytest.raises(BadRequest) as caught:
        iter_export(never_read(), "xlsx")
    assert "xlsx" in caught.value.detail
    assert caught.value.hint == "use one of: jsonl, csv, parquet"


def test_jsonl_round_trips_every_record_in_bounded_chunks() -> None:
    records = [dict(RECORDS[i % 3], id=i) for i in range(200)]
    chunks = export(records, "jsonl", chunk_bytes=2000)
    assert len(chunks) > 5
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert all(2000 <= len(chunk) < 2600 for chunk in chunks[:-1])
    lines = b"".join(chunks).splitlines()
    assert [orjson.loads(line) for line in lines] == records


def read_csv(chunks: list[bytes]) -> list[dict[str, str]]:
    text = "".join(chunk.decode("utf-8") for chunk in chunks)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_one_row_per_annotation_and_one_for_an_unanswered_item() -> None:
    rows = read_csv(export(RECORDS, "csv"))
    assert list(rows[0]) == [
        "id",
        "external_id",
        "data",
        "annotator",
        "submitted_at",
        "schema_version",
        "status",
        "values",
    ]
    assert [(row["id"], row["annotator"]) for row in rows] == [
        ("1", "ann@example.com"),
        ("1", "bob@example.com"),
        ("2", ""),
        ("3", "'-carol@example.com"),
    ]
    first = rows[0]
    assert orjson.loads(first["data"]) == RECORDS[0]["data"]
    assert orjson.loads(first["values"]) == {"label": "pos", "score": 4}
    assert first["submitted_at"] == "2024-05-01T12:00:00+00:00"
    assert first["schema_version"] == "1"
    assert first["status"] == "submitted"
    assert rows[2]["external_id"] == ""
    assert rows[2]["values"] == rows[2]["status"] == ""
    assert rows[3]["status"] == "skipped"


def test_csv_flattens_answer_fields_and_guards_formulas() -> None:
    rows = read_csv(export(RECORDS, "csv", flatten_fields=["label", "score", "tags", "status"]))
    assert list(rows[0])[8:] == ["label", "score", "tags", "values.status"]
    assert [(row["label"], row["score"], row["tags"]) for row in rows] == [
        ("pos", "4", ""),
        ("neg", "2", '["a"]'),
        ("", "", ""),
        ("'@SUM(A1)", "", ""),
    ]
    assert rows[3]["external_id"] == '\'=HYPERLINK("http://x")'


def test_csv_consensus_column_on_request() -> None:
    rows = read_csv(export(RECORDS, "csv", with_consensus=True))
    assert orjson.loads(rows[0]["consensus"]) == {"label": "pos", "confidence": 0.7}
    assert rows[2]["consensus"] == ""


def test_csv_chunks_hold_whole_rows() -> None:
    records = [dict(RECORDS[0], id=i) for i in range(100)]
    chunks = export(records, "csv", chunk_bytes=1000)
    assert len(chunks) > 10
    assert all(chunk.endswith(b"\r\n") for chunk in chunks)
    assert len(read_csv(chunks)) == 200


def read_parquet(chunks: list[bytes]) -> pa.Table:
    return pq.read_table(io.BytesIO(b"".join(chunks)))


def test_parquet_round_trips_with_the_documented_schema() -> None:
    records = [dict(RECORDS[0], annotations=[dict(annotation("x@y.z", 1), submitted_at=None)])]
    records[0]["annotations"].append(
        dict(annotation("w@y.z", {"k": 1}), submitted_at=dt.datetime(2024, 1, 2, 3, 4, 5))
    )
    table = read_parquet(export(RECORDS + records, "parquet"))
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("external_id").type == pa.string()
    assert table.schema.field("data").type == pa.string()
    assert table.schema.field("annotations").type == pa.list_(
        pa.struct(
            [
                ("annotator", pa.string()),
                ("submitted_at", pa.string()),
                ("schema_version", pa.int32()),
                ("status", pa.string()),
                ("values", pa.string()),
            ]
        )
    )
    rows = table.to_pylist()
    assert [row["id"] for row in rows] == [1, 2, 3, 1]
    external_ids = [row["external_id"] for row in rows]
    assert external_ids == ["doc-1", None, RECORDS[2]["external_id"], "doc-1"]
    assert orjson.loads(rows[0]["data"]) == RECORDS[0]["data"]
    assert rows[1]["annotations"] == []
    assert rows[0]["annotations"][1] == {
        "annotator": "bob@example.com",
        "submitted_at": "2024-05-01T12:00:00+00:00",
        "schema_version": 1,
        "status": "submitted",
        "values": '{"label":"neg","score":2,"tags":["a"]}',
    }
    assert [a["submitted_at"] for a in rows[3]["annotations"]] == [None, "2024-01-02T03:04:05"]
    assert "consensus" not in table.column_names


def test_parquet_consensus_column_on_request() -> None:
    table = read_parquet(export(RECORDS, "parquet", with_consensus=True))
    assert table.schema.field("consensus").type == pa.string()
    consensus = table.column("consensus").to_pylist()
    assert orjson.loads(consensus[0]) == {"label": "pos", "confidence": 0.7}
    assert consensus[1:] == [None, None]


def test_parquet_is_written_row_group_by_row_group_in_bounded_chunks() -> None:
    records = [dict(RECORDS[i % 3], id=i) for i in range(1000)]
    chunks = list(iter_parquet(iter(records), chunk_bytes=512, row_group_records=300))
    assert all(len(chunk) <= 512 for chunk in chunks)
    parquet = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    assert parquet.metadata.num_row_groups == 4
    assert parquet.read().column("id").to_pylist() == list(range(1000))


def test_export_of_nothing_is_a_valid_empty_file() -> None:
    assert export([], "jsonl") == []
    assert read_csv(export([], "csv")) == []
    assert read_parquet(export([], "parquet")).num_rows == 0


def test_csv_cells_with_commas_quotes_and_line_breaks_read_back_intact() -> None:
    tricky = 'a, "b"\nc\r\nd'
    record = {
        "id": 7,
        "external_id": tricky,
        "data": {"text": tricky},
        "annotations": [annotation(tricky, {"label": tricky}, status=tricky)],
    }
    (row,) = read_csv(export([record], "csv", flatten_fields=["label"]))
    assert row["external_id"] == row["annotator"] == row["status"] == row["label"] == tricky
    assert orjson.loads(row["data"]) == {"text": tricky}
    assert orjson.loads(row["values"]) == {"label": tricky}
