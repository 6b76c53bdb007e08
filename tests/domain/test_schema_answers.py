"""Checking answers against a label schema: each type's accepted and rejected values."""

from __future__ import annotations

from typing import Any

import pytest

from labelvault.domain.schema import LabelSchema, parse_schema
from labelvault.errors import InvalidInput

TEXT = "Alice met Bob in Paris."  # Alice 0..5, Bob 10..13, Paris 17..22


def one(**spec: Any) -> LabelSchema:
    """A schema with the single field ``spec``, named ``f`` unless given."""
    return parse_schema({"fields": [{"name": "f"} | spec]})


def accept(schema: LabelSchema, value: Any, item: dict[str, Any] | None = None) -> Any:
    return schema.validate_answer({"f": value}, item or {"text": TEXT})["f"]


def reject(
    schema: LabelSchema, values: Any, item: dict[str, Any] | None = None
) -> dict[str, dict[str, str]]:
    """Validate expecting failure; map each reported path to its error entry."""
    with pytest.raises(InvalidInput) as caught:
        schema.validate_answer(values, item or {"text": TEXT})
    error = caught.value
    assert error.detail.startswith("answer does not match the project schema")
    assert "GET /api/v1/projects/" in (error.hint or "")
    return {entry["field"]: entry for entry in error.errors}


# --- presence of fields -------------------------------------------------------------------


def test_missing_required_field_is_named() -> None:
    schema = one(type="text")
    errors = reject(schema, {})
    assert errors["f"]["message"] == "f is required"


def test_null_required_field_is_rejected() -> None:
    assert "cannot be null" in reject(one(type="text"), {"f": None})["f"]["message"]


def test_optional_field_may_be_absent_or_null_and_is_left_out() -> None:
    schema = one(type="text", required=False)
    assert schema.validate_answer({}, {}) == {}
    assert schema.validate_answer({"f": None}, {}) == {}


def test_unknown_field_name_is_rejected_with_the_known_names() -> None:
    errors = reject(one(type="text"), {"f": "ok", "g": "x"})
    assert '"g" is not a field' in errors["g"]["message"]
    assert errors["g"]["allowed"] == '"f"'


def test_values_must_be_an_object() -> None:
    errors = reject(one(type="text"), ["f"])
    assert "expected an object" in errors["values"]["message"]
    assert errors["values"]["allowed"] == '"f"'


def test_detail_counts_every_problem() -> None:
    schema = parse_schema(
        {
            "fields": [
                {"name": "a", "type": "single_choice", "options": ["x"]},
                {"name": "b", "type": "text", "min_length": 2},
            ]
        }
    )
    with pytest.raises(InvalidInput) as caught:
        schema.validate_answer({"a": "y", "b": "z"}, {})
    assert caught.value.detail == "answer does not match the project schema: 2 problems"
    assert [e["field"] for e in caught.value.errors] == ["a", "b"]


# --- single_choice ------------------------------------------------------------------------

CHOICE = {"type": "single_choice", "options": ["pos", "neg", "neu"]}


def test_single_choice_accepts_an_option() -> None:
    assert accept(one(**CHOICE), "neg") == "neg"


@pytest.mark.parametrize(("value", "words"), [("bad", '"bad" is not one'), (1, "got number")])
def test_single_choice_rejects_other_values(value: Any, words: str) -> None:
    entry = reject(one(**CHOICE), {"f": value})["f"]
    assert words in entry["message"]
    assert entry["allowed"] == '"pos", "neg", "neu"'


def test_single_choice_rejects_a_list_even_of_options() -> None:
    assert "got array" in reject(one(**CHOICE), {"f": ["pos"]})["f"]["message"]


# --- multi_choice -------------------------------------------------------------------------

MULTI = {"type": "multi_choice", "options": ["a", "b", "c"], "min_selected": 1, "max_selected": 2}


def test_multi_choice_accepts_distinct_options_in_option_order() -> None:
    assert accept(one(**MULTI), ["c", "a"]) == ["a", "c"]


def test_multi_choice_allows_empty_selection_by_default() -> None:
    assert accept(one(type="multi_choice", options=["a", "b"]), []) == []
    assert accept(one(type="multi_choice", options=["a", "b"]), ["b", "a"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        (["a", "d"], "f[1]", '"d" is not one of the options'),
        (["a", 3], "f[1]", "number is not one of the options"),
        (["a", "a"], "f[1]", "selected twice"),
        ([], "f", "0 options selected; this field takes 1 to 2"),
        (["a", "b", "c"], "f", "3 options selected"),
        ("a", "f", "expected a list"),
    ],
)
def test_multi_choice_rejections(value: Any, path: str, words: str) -> None:
    errors = reject(one(**MULTI), {"f": value})
    assert words in errors[path]["message"], errors


# --- spans --------------------------------------------------------------------------------

SPANS = {"type": "spans", "source": "text", "labels": ["PER", "LOC"]}


def test_spans_are_accepted_and_sorted_by_position() -> None:
    value = [
        {"start": 17, "end": 22, "label": "LOC"},
        {"start": 0, "end": 5, "label": "PER", "text": "Alice"},
    ]
    assert accept(one(**SPANS), value) == [
        {"start": 0, "end": 5, "label": "PER", "text": "Alice"},
        {"start": 17, "end": 22, "label": "LOC"},
    ]


def test_adjacent_spans_do_not_overlap() -> None:
    value = [{"start": 0, "end": 5, "label": "PER"}, {"start": 5, "end": 9, "label": "LOC"}]
    assert len(accept(one(**SPANS), value)) == 2


def test_offsets_count_characters_not_bytes() -> None:
    item = {"text": "Zoë → Zürich"}
    value = [{"start": 6, "end": 12, "label": "LOC", "text": "Zürich"}]
    assert accept(one(**SPANS), value, item)[0]["text"] == "Zürich"


@pytest.mark.parametrize(
    ("span", "path", "words", "allowed"),
    [
        ({"start": 0, "end": 57, "label": "PER"}, "f[0].end", "end 57 is beyond the text", "0..23"),
        ({"start": -1, "end": 3, "label": "PER"}, "f[0].start", "outside the text", "0..22"),
        ({"start": 23, "end": 23, "label": "PER"}, "f[0].start", "outside the text", "0..22"),
        ({"start": 5, "end": 5, "label": "PER"}, "f[0].end", "greater than start", "6..23"),
        ({"start": 7, "end": 3, "label": "PER"}, "f[0].end", "greater than start", "8..23"),
        ({"start": 0.0, "end": 3, "label": "PER"}, "f[0].start", "integer", "0..22"),
        ({"start": True, "end": 3, "label": "PER"}, "f[0].start", "got boolean", "0..22"),
        ({"start": 0, "label": "PER"}, "f[0].end", "got null", "1..23"),
        ({"start": 0, "end": 5, "label": "ORG"}, "f[0].label", '"ORG" is not', '"PER", "LOC"'),
        ({"start": 0, "end": 5}, "f[0].label", "null is not", '"PER", "LOC"'),
        ({"start": 0, "end": 5, "label": "PER", "text": "Alicf"}, "f[0].text", "match", '"Alice"'),
    ],
)
def test_span_rejections(span: dict[str, Any], path: str, words: str, allowed: str) -> None:
    entry = reject(one(**SPANS), {"f": [span]})[path]
    assert words in entry["message"]
    assert entry["allowed"] == allowed


def test_span_with_an_unknown_key_is_rejected() -> None:
    span = {"start": 0, "end": 5, "label": "PER", "score": 0.9}
    assert "unknown key" in reject(one(**SPANS), {"f": [span]})["f[0].score"]["message"]


def test_overlapping_spans_are_rejected_unless_allowed() -> None:
    value = [{"start": 0, "end": 9, "label": "PER"}, {"start": 6, "end": 13, "label": "PER"}]
    errors = reject(one(**SPANS), {"f": value})
    assert "overlaps f[0]" in errors["f[1]"]["message"]
    assert len(accept(one(**SPANS, allow_overlap=True), value)) == 2


def test_nested_span_overlaps_the_enclosing_one() -> None:
    value = [
        {"start": 0, "end": 22, "label": "LOC"},
        {"start": 10, "end": 13, "label": "PER"},
        {"start": 17, "end": 22, "label": "PER"},
    ]
    errors = reject(one(**SPANS), {"f": value})
    assert set(errors) == {"f[1]", "f[2]"}


def test_identical_spans_are_rejected_even_when_overlap_is_allowed() -> None:
    span = {"start": 0, "end": 5, "label": "PER"}
    errors = reject(one(**SPANS, allow_overlap=True), {"f": [span, dict(span)]})
    assert "repeats f[0]" in errors["f[1]"]["message"]


def test_same_range_with_two_labels_is_an_overlap() -> None:
    value = [{"start": 0, "end": 5, "label": "PER"}, {"start": 0, "end": 5, "label": "LOC"}]
    assert "f[1]" in reject(one(**SPANS), {"f": value})
    assert len(accept(one(**SPANS, allow_overlap=True), value)) == 2


def test_spans_need_the_item_text() -> None:
    errors = reject(one(**SPANS), {"f": []}, item={"body": TEXT})
    assert 'no text under "text"' in errors["f"]["message"]


def test_spans_must_be_a_list_of_objects() -> None:
    assert "expected a list" in reject(one(**SPANS), {"f": {"start": 0}})["f"]["message"]
    assert "span object" in reject(one(**SPANS), {"f": [[0, 5]]})["f[0]"]["message"]


# --- bbox ---------------------------------------------------------------------------------

BBOX = {"type": "bbox", "labels": ["car", "person"], "max_boxes": 2}


def box(**over: Any) -> dict[str, Any]:
    return {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4, "label": "car"} | over


def test_boxes_are_accepted_including_ones_touching_the_edges() -> None:
    value = [box(), box(x=0, y=0, w=1, h=1, label="person")]
    assert accept(one(**BBOX), value) == value


def test_edge_sum_within_float_rounding_is_accepted() -> None:
    assert accept(one(**BBOX), [box(x=0.7, w=0.3, y=0.1, h=0.9)])


@pytest.mark.parametrize(
    ("over", "path", "words"),
    [
        ({"x": 0.8}, "f[0].w", "right edge x+w = 1.1"),
        ({"y": 0.7}, "f[0].h", "bottom edge y+h = 1.1"),
        ({"x": -0.1}, "f[0].x", "must be in [0, 1]"),
        ({"y": 1.5}, "f[0].y", "must be in [0, 1]"),
        ({"w": 0}, "f[0].w", "must be in (0, 1]"),
        ({"h": -0.2}, "f[0].h", "must be in (0, 1]"),
        ({"x": "0.1"}, "f[0].x", "got string"),
        ({"w": None}, "f[0].w", "got null"),
        ({"x": float("nan")}, "f[0].x", "got number"),
        ({"label": "dog"}, "f[0].label", '"dog" is not'),
        ({"score": 1}, "f[0].score", "unknown key"),
    ],
)
def test_box_rejections(over: dict[str, Any], path: str, words: str) -> None:
    errors = reject(one(**BBOX), {"f": [box(**over)]})
    assert words in errors[path]["message"], errors


def test_too_many_boxes_are_rejected() -> None:
    errors = reject(one(**BBOX), {"f": [box(), box(), box()]})
    assert "more than this field's max_boxes 2" in errors["f"]["message"]


# --- rating -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (5, 5), (3.0, 3), (4.0000000001, 4)])
def test_integer_rating_values_come_back_as_ints(value: Any, expected: int) -> None:
    result = accept(one(type="rating"), value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize(("value", "expected"), [(0.5, 0.5), (2, 2.0), (0.30000000000000004, 0.3)])
def test_fractional_grid_values_come_back_as_floats(value: Any, expected: float) -> None:
    result = accept(one(type="rating", min=0, max=2, step=0.1), value)
    assert result == expected and type(result) is float


def test_continuous_rating_accepts_any_number_in_range_as_given() -> None:
    schema = one(type="rating", min=0, max=1, step=None)
    assert accept(schema, 0.123456) == 0.123456
    assert accept(schema, 1) == 1
    assert "outside 0..1" in reject(schema, {"f": 1.0000001})["f"]["message"]


@pytest.mark.parametrize(
    ("value", "words", "allowed"),
    [
        (2.5, "not on the scale", "1, 2, 3, 4, 5"),
        (0, "outside 1..5", "1, 2, 3, 4, 5"),
        (6, "outside 1..5", "1, 2, 3, 4, 5"),
        ("3", "got string", "1, 2, 3, 4, 5"),
        (True, "got boolean", "1, 2, 3, 4, 5"),
        (float("inf"), "got number", "1, 2, 3, 4, 5"),
    ],
)
def test_rating_rejections(value: Any, words: str, allowed: str) -> None:
    entry = reject(one(type="rating"), {"f": value})["f"]
    assert words in entry["message"]
    assert entry["allowed"] == allowed


def test_large_rating_grid_is_described_by_range_and_step() -> None:
    entry = reject(one(type="rating", min=0, max=100, step=0.5), {"f": 0.3})["f"]
    assert entry["allowed"] == "0..100 in steps of 0.5"


# --- pairwise -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [{"choice": "A"}, {"choice": "B", "strength": 3}, {"choice": "tie", "strength": 1}]
)
def test_pairwise_accepts_a_choice_with_optional_strength(value: dict[str, Any]) -> None:
    assert accept(one(type="pairwise", strength=True), value) == value


@pytest.mark.parametrize(
    ("spec", "value", "path", "words"),
    [
        ({"allow_tie": False}, {"choice": "tie"}, "f.choice", "does not allow a tie"),
        ({}, {"choice": "a"}, "f.choice", '"a" is not valid'),
        ({}, {}, "f.choice", "missing"),
        ({}, {"choice": "A", "strength": 2}, "f.strength", "does not collect a strength"),
        ({"strength": True}, {"choice": "A", "strength": 4}, "f.strength", "1 (slight) to 3"),
        ({"strength": True}, {"choice": "A", "strength": 1.5}, "f.strength", "number must"),
        ({}, {"choice": "A", "why": "x"}, "f.why", "unknown key"),
        ({}, "A", "f", "expected an object"),
    ],
)
def test_pairwise_rejections(spec: dict[str, Any], value: Any, path: str, words: str) -> None:
    errors = reject(one(type="pairwise", **spec), {"f": value})
    assert words in errors[path]["message"], errors


# --- ranking ------------------------------------------------------------------------------

RANK_ITEM = {"candidates": ["p", "q", "r"]}


def test_ranking_accepts_a_permutation_of_the_candidates() -> None:
    assert accept(one(type="ranking", source="candidates"), [2, 0, 1], RANK_ITEM) == [2, 0, 1]


def test_ranking_with_a_fixed_n_ignores_the_item() -> None:
    assert accept(one(type="ranking", n=2), [1, 0], {}) == [1, 0]


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        ([0, 1], "f", "lists 2 candidates but there are 3"),
        ([0, 1, 2, 0], "f", "lists 4 candidates"),
        ([0, 0, 1], "f[1]", "candidate 0 is ranked twice"),
        ([0, 1, 3], "f[2]", "candidate index 3 does not exist"),
        ([0, 1, -1], "f[2]", "does not exist"),
        ([0, 1, "2"], "f[2]", "got string"),
        ([0, 1, True], "f[2]", "got boolean"),
        ("012", "f", "expected a list"),
    ],
)
def test_ranking_rejections(value: Any, path: str, words: str) -> None:
    errors = reject(one(type="ranking", source="candidates"), {"f": value}, RANK_ITEM)
    assert words in errors[path]["message"], errors


def test_short_ranking_names_the_unranked_candidates() -> None:
    errors = reject(one(type="ranking", n=4), {"f": [3, 1]}, {})
    assert errors["f"]["message"].endswith("(not ranked: 0, 2)")


def test_ranking_needs_the_candidate_list_in_the_item() -> None:
    errors = reject(one(type="ranking", source="candidates"), {"f": [0]}, {"candidates": "p"})
    assert 'no candidate list under "candidates"' in errors["f"]["message"]


# --- text ---------------------------------------------------------------------------------


def test_text_within_bounds_is_accepted_unchanged() -> None:
    schema = one(type="text", min_length=1, max_length=5)
    assert accept(schema, " hi ") == " hi "
    assert accept(schema, "ééééé") == "ééééé"


@pytest.mark.parametrize(
    ("value", "words"),
    [("", "0 characters; at least 1"), ("abcdef", "6 characters; at most 5"), (5, "got number")],
)
def test_text_rejections(value: Any, words: str) -> None:
    entry = reject(one(type="text", min_length=1, max_length=5), {"f": value})["f"]
    assert words in entry["message"]
    assert entry["allowed"] == "1..5 characters"


def test_text_has_a_hard_cap_by_default() -> None:
    schema = one(type="text")
    assert len(accept(schema, "x" * 100_000)) == 100_000
    assert "at most 100000" in reject(schema, {"f": "x" * 100_001})["f"]["message"]


# --- rubric -------------------------------------------------------------------------------

RUBRIC = {
    "type": "rubric",
    "criteria": [
        {"name": "helpful", "min": 1, "max": 5, "step": 1},
        {"name": "harmless", "min": 0, "max": 1},
    ],
}


def test_rubric_accepts_a_score_per_criterion_in_criteria_order() -> None:
    assert accept(one(**RUBRIC), {"harmless": 0.25, "helpful": 4.0}) == {
        "helpful": 4,
        "harmless": 0.25,
    }


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        ({"helpful": 4}, "f.harmless", 'criterion "harmless" has no score'),
        ({"helpful": 6, "harmless": 0}, "f.helpful", "score 6 is outside 1..5"),
        ({"helpful": 2.5, "harmless": 0}, "f.helpful", "not on the scale"),
        ({"helpful": 2, "harmless": "0"}, "f.harmless", "got string"),
        ({"helpful": 2, "harmless": 0, "honest": 1}, "f.honest", "not a criterion"),
        ([4, 0], "f", "expected an object"),
    ],
)
def test_rubric_rejections(value: Any, path: str, words: str) -> None:
    errors = reject(one(**RUBRIC), {"f": value})
    assert words in errors[path]["message"], errors


# --- limits -------------------------------------------------------------------------------


def test_an_answer_with_too_many_entries_is_rejected_without_checking_each() -> None:
    spans = [{"start": 0, "end": 1, "label": "PER"}] * 10_001
    errors = reject(one(**SPANS, allow_overlap=True), {"f": spans})
    assert list(errors) == ["f"]
    assert "at most 10000" in errors["f"]["message"]


def test_reported_problems_are_capped_but_all_counted() -> None:
    spans = [{"start": 0, "end": 99, "label": "PER"}] * 500
    with pytest.raises(InvalidInput) as caught:
        one(**SPANS).validate_answer({"f": spans}, {"text": TEXT})
    assert len(caught.value.errors) == 100
    assert caught.value.detail.endswith(": 500 problems")
