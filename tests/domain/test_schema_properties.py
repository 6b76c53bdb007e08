"""Property tests: answers built to be valid are accepted; the checks agree with simple oracles."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelvault.domain.schema import LabelSchema, parse_schema
from labelvault.errors import InvalidInput

LABELS = ["PER", "ORG", "LOC"]


def one(**spec: Any) -> LabelSchema:
    return parse_schema({"fields": [{"name": "f"} | spec]})


def is_valid(schema: LabelSchema, value: Any, item: dict[str, Any]) -> bool:
    try:
        schema.validate_answer({"f": value}, item)
    except InvalidInput:
        return False
    return True


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """A text (with non-ASCII characters) and arbitrary in-range spans over it."""
    text = draw(st.text(min_size=1, max_size=40))
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        spans.append({"start": start, "end": end, "label": draw(st.sampled_from(LABELS))})
    return text, spans


@st.composite
def text_and_disjoint_spans(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """A text and non-overlapping spans over it, in shuffled order, some carrying their text."""
    text = draw(st.text(min_size=1, max_size=60))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), min_size=2, max_size=12)))
    spans = []
    for start, end in itertools.pairwise(cuts):
        if draw(st.booleans()):
            span: dict[str, Any] = {
                "start": start,
                "end": end,
                "label": draw(st.sampled_from(LABELS)),
            }
            if draw(st.booleans()):
                span["text"] = text[start:end]
            spans.append(span)
    return text, draw(st.permutations(spans))


def overlaps(spans: list[dict[str, Any]]) -> bool:
    return any(
        a["start"] < b["end"] and b["start"] < a["end"] for a, b in itertools.combinations(spans, 2)
    )


@given(text_and_disjoint_spans())
def test_disjoint_spans_are_accepted_and_sorted(case: tuple[str, list[dict[str, Any]]]) -> None:
    text, spans = case
    schema = one(type="spans", source="text", labels=LABELS)

    result = schema.validate_answer({"f": spans}, {"text": text})["f"]

    assert result == sorted(spans, key=lambda s: (s["start"], s["end"], s["label"]))


@given(text_and_spans())
def test_spans_are_rejected_exactly_when_they_overlap(
    case: tuple[str, list[dict[str, Any]]],
) -> None:
    text, spans = case
    schema = one(type="spans", source="text", labels=LABELS)

    assert is_valid(schema, spans, {"text": text}) == (not overlaps(spans))


@given(text_and_spans())
def test_with_overlap_allowed_only_exact_repeats_are_rejected(
    case: tuple[str, list[dict[str, Any]]],
) -> None:
    text, spans = case
    schema = one(type="spans", source="text", labels=LABELS, allow_overlap=True)
    repeats = len({tuple(sorted(s.items())) for s in spans}) < len(spans)

    assert is_valid(schema, spans, {"text": text}) == (not repeats)


@given(
    low=st.integers(-100, 100),
    step=st.sampled_from([0.1, 0.2, 0.25, 0.5, 1, 2, 5, 0.05]),
    points=st.integers(2, 40),
    data=st.data(),
)
def test_every_rating_grid_point_is_accepted_as_its_class(
    low: int, step: float, points: int, data: st.DataObject
) -> None:
    high = low + (points - 1) * step
    schema = one(type="rating", min=low, max=high, step=step)
    k = data.draw(st.integers(0, points - 1))

    value = schema.validate_answer({"f": low + k * step}, {})["f"]

    [(_, classes)] = schema.categorical_fields()
    assert len(classes) == points
    assert value == classes[k]
    assert schema.field("f").category_of(value) in classes


@given(
    low=st.integers(-100, 100),
    step=st.sampled_from([0.1, 0.25, 0.5, 1, 2, 5]),
    points=st.integers(2, 40),
    data=st.data(),
)
def test_values_between_grid_points_or_outside_are_rejected(
    low: int, step: float, points: int, data: st.DataObject
) -> None:
    high = low + (points - 1) * step
    schema = one(type="rating", min=low, max=high, step=step)
    k = data.draw(st.integers(-1, points - 1))
    off = data.draw(st.sampled_from([0.3, 0.5, 0.7]))

    with pytest.raises(InvalidInput) as caught:
        schema.validate_answer({"f": low + (k + off) * step}, {})

    assert caught.value.errors[0]["field"] == "f"


@given(n=st.integers(1, 12), data=st.data())
def test_ranking_accepts_exactly_the_permutations(n: int, data: st.DataObject) -> None:
    schema = one(type="ranking", source="c")
    item = {"c": list(range(n))}
    permutation = data.draw(st.permutations(range(n)))
    other = data.draw(st.lists(st.integers(-1, n), max_size=n + 1))

    assert schema.validate_answer({"f": permutation}, item)["f"] == permutation
    assert is_valid(schema, other, item) == (sorted(other) == list(range(n)))


OPTIONS = ["a", "b", "c", "d", "e"]


@given(
    st.lists(st.sampled_from([*OPTIONS, "z"]), max_size=7),
    st.integers(0, 3),
    st.integers(3, 5),
)
def test_multi_choice_agrees_with_a_set_oracle(picked: list[str], least: int, most: int) -> None:
    schema = one(type="multi_choice", options=OPTIONS, min_selected=least, max_selected=most)
    expected = (
        len(set(picked)) == len(picked)
        and set(picked) <= set(OPTIONS)
        and least <= len(picked) <= most
    )

    assert is_valid(schema, picked, {}) == expected
    if expected:
        normalized = schema.validate_answer({"f": picked}, {})["f"]
        assert normalized == [o for o in OPTIONS if o in picked]


unit = st.floats(0, 1, allow_nan=False)


@st.composite
def valid_box(draw: st.DrawFn) -> dict[str, Any]:
    x, y = draw(unit), draw(unit)
    w = draw(st.floats(0, 1 - x, exclude_min=True)) if x < 1 else None
    h = draw(st.floats(0, 1 - y, exclude_min=True)) if y < 1 else None
    if w is None or h is None:
        x, w = 0.0, 1.0
        y, h = 0.0, 1.0
    return {"x": x, "y": y, "w": w, "h": h, "label": draw(st.sampled_from(LABELS))}


@given(st.lists(valid_box(), max_size=5))
def test_boxes_inside_the_image_are_accepted(boxes: list[dict[str, Any]]) -> None:
    schema = one(type="bbox", labels=LABELS)
    assert schema.validate_answer({"f": boxes}, {})["f"] == boxes


field_specs = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("single_choice"),
            "options": st.lists(
                st.text(min_size=1, max_size=20), min_size=1, max_size=5, unique=True
            ),
        },
        optional={"required": st.booleans(), "description": st.text(max_size=20)},
    ),
    st.fixed_dictionaries(
        {"type": st.just("rating"), "min": st.integers(-5, 0), "max": st.integers(1, 10)},
        optional={"step": st.sampled_from([1, None])},
    ),
    st.fixed_dictionaries(
        {"type": st.just("pairwise")},
        optional={"allow_tie": st.booleans(), "strength": st.booleans()},
    ),
    st.fixed_dictionaries(
        {"type": st.just("text")},
        optional={"min_length": st.integers(0, 5), "max_length": st.integers(5, 100)},
    ),
    st.fixed_dictionaries(
        {"type": st.just("ranking"), "n": st.integers(2, 9)},
    ),
)


@given(st.lists(field_specs, min_size=1, max_size=6))
def test_canonical_json_round_trips(specs: list[dict[str, Any]]) -> None:
    schema = parse_schema({"fields": [{"name": f"f{i}"} | s for i, s in enumerate(specs)]})

    canonical = schema.to_json()

    assert parse_schema(canonical) == schema
    assert parse_schema(canonical).to_json() == canonical
