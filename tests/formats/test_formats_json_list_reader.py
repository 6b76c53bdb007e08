from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from formats_streams import TrickleStream
from hypothesis import given, settings
from hypothesis import strategies as st

from labelvault.errors import BadRequest
from labelvault.formats import ParsedItem, RowError, read_items
from labelvault.formats.read_json_list import read_json_list


def read(data: bytes, **kwargs: int) -> list[ParsedItem | RowError]:
    return list(read_items(io.BytesIO(data), "json", **kwargs))


def read_in_pieces(data: bytes, step: int = 7, max_row_bytes: int = 1 << 20) -> list[Any]:
    """Read a body that arrives `step` bytes at a time, parsed `step` bytes at a time, so
    chunk boundaries fall inside strings, escapes, numbers and multi-byte characters."""
    stream = TrickleStream(data, step)
    return list(read_json_list(stream, max_row_bytes=max_row_bytes, chunk_bytes=step))


TRICKY = (
    b'\xef\xbb\xbf [\n  {"text": "a ] } , { \\" [ brackets", "n": -1.5e3},\n'
    b'  {"id": "k-1", "data": {"text": "caf\xc3\xa9", "spans": [{"s": 0}, {"s": 2}]}},\n'
    b'  {"nested": {"deep": [[{"x": "\\\\"}]]}, "esc": "\\\\\\""},\n'
    b'  {"id": 9, "t": "\\u00e9\\ud83d\\ude00"}\n]\n'
)
TRICKY_ITEMS = [
    ParsedItem(1, None, {"text": 'a ] } , { " [ brackets', "n": -1500.0}),
    ParsedItem(2, "k-1", {"text": "caf\u00e9", "spans": [{"s": 0}, {"s": 2}]}),
    ParsedItem(3, None, {"nested": {"deep": [[{"x": "\\"}]]}, "esc": '\\"'}),
    ParsedItem(4, "9", {"t": "\u00e9\U0001f600"}),
]


def test_reads_a_list_with_strings_that_look_like_structure() -> None:
    assert read(TRICKY) == TRICKY_ITEMS


def test_reads_the_same_when_the_body_arrives_seven_bytes_at_a_time() -> None:
    assert list(read_items(TrickleStream(TRICKY, 7), "json")) == TRICKY_ITEMS
    for step in (1, 2, 3, 7, 16):
        assert read_in_pieces(TRICKY, step) == TRICKY_ITEMS


@pytest.mark.parametrize("body", [b"[]", b"  [ ]  \n", b"", b"\n\n"])
def test_empty_list_or_empty_body_has_no_items(body: bytes) -> None:
    assert read(body) == []


def test_trailing_comma_is_tolerated() -> None:
    assert read(b'[{"a": 1},]') == [ParsedItem(1, None, {"a": 1})]


def test_elements_that_are_not_objects_or_not_json_are_reported_and_skipped() -> None:
    data = b'[{"a": 1}, 5, "s", [1, {"x": 2}], null, {"b": 2,, }, {"id": false}, {"c": 3}]'
    for result in (read(data), read_in_pieces(data)):
        assert result[0] == ParsedItem(1, None, {"a": 1})
        assert result[-1] == ParsedItem(8, None, {"c": 3})
        messages = [row.message for row in result[1:-1] if isinstance(row, RowError)]
        assert messages[:4] == [
            "item 2: expected a JSON object, got a number",
            "item 3: expected a JSON object, got a string",
            "item 4: expected a JSON object, got a list",
            "item 5: expected a JSON object, got null",
        ]
        assert messages[4].startswith("item 6: invalid JSON: ")
        assert messages[5].startswith("item 7: id must be a string or an integer")
        assert len(result) == 8


def test_invalid_utf8_inside_an_element_is_reported_for_that_element() -> None:
    result = read(b'[{"a": "\xff"}, {"b": 1}]')
    assert result == [
        RowError(1, "item 1: not valid UTF-8 text; save the file with UTF-8 encoding"),
        ParsedItem(2, None, {"b": 1}),
    ]


@pytest.mark.parametrize("step", [7, 1 << 20])
def test_oversized_element_is_skipped_without_losing_the_next(step: int) -> None:
    big = b'{"text": "' + b']}[{,\\"' * 60 + b'"}'
    data = b'[{"n": 1}, ' + big + b', {"n": 3}, ' + big + b"]"
    result = read_in_pieces(data, step, max_row_bytes=100)
    assert result[0] == ParsedItem(1, None, {"n": 1})
    assert result[2] == ParsedItem(3, None, {"n": 3})
    for index in (1, 3):
        error = result[index]
        assert isinstance(error, RowError)
        assert error.line == index + 1
        assert error.message == (
            f"item {index + 1}: row is {len(big)} bytes, over the 100 bytes limit; "
            "split the item or raise LABELVAULT_MAX_ITEM_BYTES"
        )
    assert len(result) == 4


def test_missing_comma_stops_reading_with_an_error() -> None:
    result = read(b'[{"a": 1} {"b": 2}, {"c": 3}]')
    assert result == [
        ParsedItem(1, None, {"a": 1}),
        RowError(
            2, "item 2: expected ',' or ']' after item 1, found '{'; separate items with commas"
        ),
    ]


def test_truncated_list_reports_where_it_broke() -> None:
    inside = read_in_pieces(b'[{"a": 1}, {"b": "unfinished')
    assert inside[0] == ParsedItem(1, None, {"a": 1})
    assert isinstance(inside[1], RowError)
    assert inside[1].line == 2
    assert "the file ends inside this item" in inside[1].message
    unclosed = read(b'[{"a": 1}, {"b": 2}\n')
    assert isinstance(unclosed[-1], RowError)
    assert unclosed[-1].line == 3
    assert "without its closing ']'" in unclosed[-1].message


def test_content_after_the_list_is_reported() -> None:
    result = read(b'[{"a": 1}] {"b": 2}')
    assert result[0] == ParsedItem(1, None, {"a": 1})
    assert isinstance(result[1], RowError)
    assert "after the closing ']'" in result[1].message


def test_a_body_that_is_not_a_list_is_a_bad_request() -> None:
    with pytest.raises(BadRequest) as caught:
        read(b'{"text": "one object"}')
    assert "not a JSON list" in caught.value.detail
    assert caught.value.hint


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
payloads = st.dictionaries(
    st.text(max_size=6).filter(lambda key: key not in ("id", "data")), json_values, max_size=4
)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(payloads, max_size=6),
    step=st.integers(min_value=1, max_value=40),
    separator=st.sampled_from([b",", b", ", b",\n  ", b"\r\n,\t"]),
)
def test_any_list_reads_back_whatever_the_chunking(
    items: list[dict[str, Any]], step: int, separator: bytes
) -> None:
    body = b"[" + separator.join(orjson.dumps(item) for item in items) + b"]"
    result = read_in_pieces(body, step)
    assert result == [ParsedItem(i, None, item) for i, item in enumerate(items, start=1)]
