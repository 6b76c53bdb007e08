from __future__ import annotations

import io

import pytest
from formats_streams import TrickleStream

from labelvault.errors import BadRequest
from labelvault.formats import ParsedItem, RowError, read_items


def read(data: bytes, **kwargs: int) -> list[ParsedItem | RowError]:
    return list(read_items(io.BytesIO(data), "csv", **kwargs))


def test_every_column_is_a_string_field_and_id_is_the_external_id() -> None:
    data = b"id,text,score\n1,hello,0.5\nabc,world,\n,no id,3\n"
    assert read(data) == [
        ParsedItem(2, "1", {"text": "hello", "score": "0.5"}),
        ParsedItem(3, "abc", {"text": "world", "score": ""}),
        ParsedItem(4, None, {"text": "no id", "score": "3"}),
    ]


def test_without_an_id_column_items_have_no_external_id() -> None:
    assert read(b"text\nx\n") == [ParsedItem(2, None, {"text": "x"})]


def test_quoted_newlines_keep_each_record_on_its_starting_line() -> None:
    data = (
        b"\xef\xbb\xbftext,label\r\n"
        b'"first line\r\nsecond line",a\r\n'
        b"\r\n"
        b'"x, ""quoted""\nand more\nand more",b\r\n'
        b"plain,c"
    )
    assert read(data) == [
        ParsedItem(2, None, {"text": "first line\r\nsecond line", "label": "a"}),
        ParsedItem(5, None, {"text": 'x, "quoted"\nand more\nand more', "label": "b"}),
        ParsedItem(8, None, {"text": "plain", "label": "c"}),
    ]


def test_wrong_column_counts_and_bad_bytes_are_row_errors() -> None:
    data = b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n\xff,2,3\n,,\n4,5,6\n"
    result = read(data)
    assert result == [
        ParsedItem(2, None, {"a": "1", "b": "2", "c": "3"}),
        RowError(
            3,
            "line 3: expected 3 columns as in the header, got 2; "
            "quote cells that contain commas and give every row the same columns",
        ),
        RowError(
            4,
            "line 4: expected 3 columns as in the header, got 4; "
            "quote cells that contain commas and give every row the same columns",
        ),
        RowError(5, "line 5: not valid UTF-8 text; save the file with UTF-8 encoding"),
        ParsedItem(7, None, {"a": "4", "b": "5", "c": "6"}),
    ]


def test_too_long_id_is_a_row_error() -> None:
    result = read(b"id,t\n" + b"i" * 300 + b",x\n2,y\n")
    assert isinstance(result[0], RowError)
    assert result[0].message.startswith("line 2: id is 300 characters long")
    assert result[1] == ParsedItem(3, "2", {"t": "y"})


def test_oversized_single_line_row_is_skipped_and_reading_goes_on() -> None:
    data = b"t\nsmall\n" + b"x" * 500 + b"\nafter\n"
    result = read(data, max_row_bytes=100)
    assert result[0] == ParsedItem(2, None, {"t": "small"})
    assert result[1] == RowError(
        3,
        "line 3: row is 500 bytes, over the 100 bytes limit; "
        "split the item or raise LABELVAULT_MAX_ITEM_BYTES",
    )
    assert result[2] == ParsedItem(4, None, {"t": "after"})


def test_oversized_row_spread_over_quoted_lines_is_reported() -> None:
    cell = "\n".join(["y" * 60] * 4)
    data = f't,u\na,b\n"{cell}",z\nc,d\n'.encode()
    result = read(data, max_row_bytes=100)
    assert result[0] == ParsedItem(2, None, {"t": "a", "u": "b"})
    assert isinstance(result[1], RowError)
    assert result[1].line == 3
    assert "over the 100 bytes limit" in result[1].message
    assert result[2] == ParsedItem(7, None, {"t": "c", "u": "d"})


def test_an_overlong_line_inside_a_quoted_cell_stops_reading() -> None:
    data = b't\n"start\n' + b"z" * 300 + b'"\nlater\n'
    result = read(data, max_row_bytes=100)
    assert len(result) == 1
    assert isinstance(result[0], RowError)
    assert result[0].line == 2
    assert "over the 100 bytes limit" in result[0].message


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (b"id,text,text\n", "appears more than once"),
        (b",text\n", "column 1 of the CSV header has no name"),
        (b"te\xffxt\n", "not valid UTF-8"),
    ],
)
def test_bad_header_is_a_bad_request(header: bytes, fragment: str) -> None:
    with pytest.raises(BadRequest) as caught:
        read(header + b"1,2,3\n")
    assert fragment in caught.value.detail
    assert caught.value.hint


def test_empty_body_has_no_items() -> None:
    assert read(b"") == []


def test_the_callers_stream_stays_open() -> None:
    stream = io.BytesIO(b"t\nx\n")
    list(read_items(stream, "csv"))
    assert not stream.closed


def test_a_plain_object_with_read_streams_too() -> None:
    data = 'id,text\n1,"multi\nline é"\n2,b\n'.encode()
    assert list(read_items(TrickleStream(data, 7), "csv")) == read(data)
