from __future__ import annotations

import io

from formats_streams import TrickleStream

from labelvault.formats import ParsedItem, RowError, read_items
from labelvault.formats.read_jsonl import read_jsonl


def read(data: bytes, **kwargs: int) -> list[ParsedItem | RowError]:
    return list(read_items(io.BytesIO(data), "jsonl", **kwargs))


def test_reads_objects_with_optional_ids_and_label_studio_tasks() -> None:
    data = (
        b'{"text": "a"}\n'
        b'{"id": "doc-1", "text": "b"}\n'
        b'{"id": 42, "data": {"text": "c"}}\n'
        b'{"data": {"text": "d"}}\n'
        b'{"id": 7, "data": {"text": "e"}, "meta": 1}\n'
    )
    assert read(data) == [
        ParsedItem(1, None, {"text": "a"}),
        ParsedItem(2, "doc-1", {"text": "b"}),
        ParsedItem(3, "42", {"text": "c"}),
        ParsedItem(4, None, {"text": "d"}),
        ParsedItem(5, "7", {"data": {"text": "e"}, "meta": 1}),
    ]


def test_blank_lines_bom_crlf_and_missing_final_newline() -> None:
    data = b'\xef\xbb\xbf{"n": 1}\r\n\r\n   \n{"n": 2}\r\n\n{"n": 3}'
    assert read(data) == [
        ParsedItem(1, None, {"n": 1}),
        ParsedItem(4, None, {"n": 2}),
        ParsedItem(6, None, {"n": 3}),
    ]


def test_bad_rows_are_reported_with_their_line_and_reading_goes_on() -> None:
    data = (
        b'{"ok": 1}\n'
        b'{"a": 1,, }\n'
        b"[1, 2]\n"
        b'"just text"\n'
        b'{"id": true}\n'
        b'{"id": 1.5}\n'
        b'{"id": "' + b"x" * 257 + b'"}\n'
        b'{"id": ""}\n'
        b'{"text": "\xff\xfe"}\n'
        b'{"ok": 2}\n'
    )
    result = read(data)
    assert result[0] == ParsedItem(1, None, {"ok": 1})
    assert result[-1] == ParsedItem(10, None, {"ok": 2})
    errors = result[1:-1]
    assert all(isinstance(error, RowError) for error in errors)
    assert [error.line for error in errors] == [2, 3, 4, 5, 6, 7, 8, 9]
    messages = [error.message for error in errors if isinstance(error, RowError)]
    assert messages[0].startswith("line 2: invalid JSON: ")
    assert "column 9" in messages[0]
    assert messages[1] == "line 3: expected a JSON object, got a list"
    assert messages[2] == "line 4: expected a JSON object, got a string"
    assert "id must be a string or an integer" in messages[3]
    assert "id must be a string or an integer" in messages[4]
    assert "257 characters long, over the 256 limit" in messages[5]
    assert "id is empty" in messages[6]
    assert "not valid UTF-8" in messages[7]


def test_id_of_exactly_256_characters_is_accepted() -> None:
    (item,) = read(b'{"id": "' + b"x" * 256 + b'", "t": 1}\n')
    assert isinstance(item, ParsedItem)
    assert item.external_id == "x" * 256


def test_oversized_rows_are_skipped_with_their_size_and_the_next_rows_still_read() -> None:
    big = b'{"text": "' + b"x" * 300 + b'"}'
    data = b'{"n": 1}\n' + big + b'\n{"n": 3}\n' + big
    result = list(read_jsonl(io.BytesIO(data), max_row_bytes=100, chunk_bytes=64))
    assert result[0] == ParsedItem(1, None, {"n": 1})
    assert result[2] == ParsedItem(3, None, {"n": 3})
    for error, line in ((result[1], 2), (result[3], 4)):
        assert isinstance(error, RowError)
        assert error.line == line
        assert error.message == (
            f"line {line}: row is 312 bytes, over the 100 bytes limit; "
            "split the item or raise LABELVAULT_MAX_ITEM_BYTES"
        )
    assert len(result) == 4


def test_oversized_row_inside_one_chunk_is_reported() -> None:
    data = b'{"n": 1}\n{"text": "' + b"y" * 200 + b'"}\n{"n": 3}\n'
    result = read(data, max_row_bytes=50)
    assert [type(row) for row in result] == [ParsedItem, RowError, ParsedItem]
    assert result[1].line == 2


def test_size_is_given_in_megabytes_for_big_rows() -> None:
    data = b'{"text": "' + b"z" * (3_400_000) + b'"}\n{"n": 2}\n'
    result = read(data)
    assert isinstance(result[0], RowError)
    assert result[0].message.startswith("line 1: row is 3.2 MB, over the 1 MB limit;")
    assert result[1] == ParsedItem(2, None, {"n": 2})


def test_a_body_arriving_a_few_bytes_at_a_time_reads_the_same() -> None:
    data = (
        b'\xef\xbb\xbf{"text": "caf\xc3\xa9 \xe2\x82\xac"}\n\n'
        b'{"id": 3, "data": {"t": "\\n"}}\r\n'
        b"not json\n"
        b'{"text": "' + b"w" * 60 + b'"}\n'
        b'{"last": true}'
    )
    expected = read(data, max_row_bytes=40)
    streamed = list(read_items(TrickleStream(data, 7), "jsonl", max_row_bytes=40))
    assert streamed == expected
    for step in (1, 2, 5, 7):
        pieces = read_jsonl(TrickleStream(data, step), max_row_bytes=40, chunk_bytes=step)
        assert list(pieces) == expected
    assert streamed[:2] == [
        ParsedItem(1, None, {"text": "caf\u00e9 \u20ac"}),
        ParsedItem(3, "3", {"t": "\n"}),
    ]
    assert [(type(row), row.line) for row in streamed[2:]] == [
        (RowError, 4),
        (RowError, 5),
        (ParsedItem, 6),
    ]
