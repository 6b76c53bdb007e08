from __future__ import annotations

import pytest

from labelvault.errors import BadRequest
from labelvault.formats import detect_format, read_items


@pytest.mark.parametrize(
    ("filename", "content_type", "head", "expected"),
    [
        (None, None, b"PAR1\x15\x04", "parquet"),
        ("items.jsonl", None, b"PAR1\x15\x04", "parquet"),
        ("items.jsonl", None, b'{"a": 1}\n', "jsonl"),
        ("ITEMS.NDJSON", None, b'{"a": 1}\n', "jsonl"),
        ("items.json", None, b'  \n[{"a": 1}]', "json"),
        ("items.json", None, b'{"a": 1}\n{"a": 2}\n', "jsonl"),
        ("items.jsonl", None, b'[{"a": 1}]', "json"),
        ("items.csv", None, b"text\nhello\n", "csv"),
        ("items.csv", None, b'{"looks": "like json"}', "csv"),
        ("items.parquet", None, b"", "parquet"),
        (None, "application/x-ndjson", b'{"a": 1}', "jsonl"),
        (None, "application/json; charset=utf-8", b"\xef\xbb\xbf[{}]", "json"),
        (None, "text/csv; charset=utf-8", b"a,b\n", "csv"),
        (None, "application/vnd.apache.parquet", b"PAR1", "parquet"),
        (None, "application/octet-stream", b'\xef\xbb\xbf {"a": 1}', "jsonl"),
        (None, None, b'[{"a": 1}]', "json"),
        (None, None, b"text,label\nhi,pos\n", "csv"),
        ("upload.bin", "text/plain", b"  {", "jsonl"),
        ("items.jsonl", None, b"", "jsonl"),
    ],
)
def test_detects_the_format(
    filename: str | None, content_type: str | None, head: bytes, expected: str
) -> None:
    assert detect_format(filename, content_type, head) == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "head", "fragment"),
    [
        (None, None, b"just some words", "cannot tell the format"),
        (None, None, b"   ", "empty"),
        ("items.parquet", None, b"not parquet", "magic number PAR1"),
        ("items.jsonl.gz", None, b"\x1f\x8b\x08\x00", "gzip-compressed"),
        (None, None, b"PK\x03\x04", "zip-compressed"),
    ],
)
def test_says_why_it_cannot_tell(
    filename: str | None, content_type: str | None, head: bytes, fragment: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        detect_format(filename, content_type, head)
    assert fragment in caught.value.detail
    assert caught.value.hint


def test_unknown_import_format_is_a_bad_request_naming_the_formats() -> None:
    import io

    with pytest.raises(BadRequest) as caught:
        read_items(io.BytesIO(b""), "xml")
    assert "xml" in caught.value.detail
    assert caught.value.hint == "use one of: jsonl, json, csv, parquet"
