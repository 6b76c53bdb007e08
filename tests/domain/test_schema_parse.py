"""Parsing a label schema: the REST JSON shape, defaults, round trip and every rejection."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from labelvault.domain.schema import (
    FieldKind,
    LabelSchema,
    RatingField,
    SingleChoiceField,
    parse_schema,
)
from labelvault.errors import InvalidInput

EXAMPLE: dict[str, Any] = {
    "fields": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "options": ["pos", "neg", "neu"],
            "required": True,
        },
        {
            "name": "topics",
            "type": "multi_choice",
            "options": ["a", "b", "c"],
            "min_selected": 0,
            "max_selected": 2,
        },
        {
            "name": "entities",
            "type": "spans",
            "source": "text",
            "labels": ["PER", "ORG"],
            "allow_overlap": False,
        },
        {"name": "boxes", "type": "bbox", "labels": ["car", "person"], "max_boxes": 50},
        {"name": "quality", "type": "rating", "min": 1, "max": 5, "step": 1},
        {"name": "pref", "type": "pairwise", "allow_tie": True, "strength": True},
        {"name": "order", "type": "ranking", "source": "candidates"},
        {"name": "answer", "type": "text", "min_length": 1, "max_length": 20000},
        {
            "name": "rubric",
            "type": "rubric",
            "criteria": [
                {"name": "helpful", "min": 1, "max": 5},
                {"name": "harmless", "min": 0, "max": 1},
            ],
        },
    ]
}


def schema_errors(obj: Any) -> dict[str, str]:
    """Parse ``obj`` expecting failure; map each reported path to its message."""
    with pytest.raises(InvalidInput) as caught:
        parse_schema(obj)
    assert caught.value.hint
    return {entry["field"]: entry["message"] for entry in caught.value.errors}


def with_field(**spec: Any) -> dict[str, Any]:
    return {"fields": [spec]}


def test_the_documented_example_parses_with_every_type() -> None:
    schema = parse_schema(copy.deepcopy(EXAMPLE))

    assert [f.name for f in schema.fields] == [f["name"] for f in EXAMPLE["fields"]]
    assert [f.kind for f in schema.fields] == list(FieldKind)
    assert isinstance(schema.field("sentiment"), SingleChoiceField)
    assert schema.names[0] == "sentiment"
    assert "quality" in schema and "nope" not in schema


def test_canonical_json_round_trips_and_spells_out_defaults() -> None:
    schema = parse_schema(copy.deepcopy(EXAMPLE))
    schema.validate_answer({"sentiment": "pos"} | _minimal_rest(), _item())  # fills caches

    canonical = schema.to_json()

    assert parse_schema(canonical) == schema
    assert parse_schema(canonical).to_json() == canonical
    first = canonical["fields"][0]
    assert list(first)[:2] == ["name", "type"]
    assert canonical["fields"][1]["required"] is True
    assert canonical["fields"][3]["max_boxes"] == 50
    assert canonical["fields"][8]["criteria"][0] == {"name": "helpful", "min": 1, "max": 5}


def test_defaults_fill_unspecified_keys() -> None:
    schema = parse_schema(
        {
            "fields": [
                {"name": "q", "type": "rating"},
                {"name": "p", "type": "pairwise"},
                {"name": "t", "type": "text", "required": False, "description": "why"},
                {"name": "m", "type": "multi_choice", "options": ["a", "b"]},
                {"name": "b", "type": "bbox", "labels": ["car"]},
            ]
        }
    )
    rating = schema.field("q")
    assert isinstance(rating, RatingField)
    assert (rating.min, rating.max, rating.step, rating.required) == (1, 5, 1, True)
    assert schema.to_json()["fields"][1] == {
        "name": "p",
        "type": "pairwise",
        "required": True,
        "allow_tie": True,
        "strength": False,
    }
    text = schema.to_json()["fields"][2]
    assert text["max_length"] == 100_000 and text["min_length"] == 0
    assert text["description"] == "why" and text["required"] is False
    assert schema.to_json()["fields"][3]["min_selected"] == 0


def test_continuous_rating_keeps_its_null_step_through_the_round_trip() -> None:
    schema = parse_schema(with_field(name="score", type="rating", min=0, max=1, step=None))

    assert schema.to_json()["fields"][0]["step"] is None
    assert parse_schema(schema.to_json()) == schema
    assert schema.categorical_fields() == []


def test_categorical_fields_list_choice_rating_grid_and_pairwise() -> None:
    schema = parse_schema(
        {
            "fields": [
                {"name": "s", "type": "single_choice", "options": ["x", "y"]},
                {"name": "r", "type": "rating", "min": 0, "max": 1, "step": 0.25},
                {"name": "p", "type": "pairwise", "allow_tie": False},
                {"name": "p3", "type": "pairwise"},
                {"name": "t", "type": "text"},
                {"name": "m", "type": "multi_choice", "options": ["a"]},
            ]
        }
    )

    assert schema.categorical_fields() == [
        ("s", ["x", "y"]),
        ("r", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("p", ["A", "B"]),
        ("p3", ["A", "B", "tie"]),
    ]


def test_category_of_maps_a_normalized_answer_to_its_class() -> None:
    schema = parse_schema(copy.deepcopy(EXAMPLE))
    values = schema.validate_answer({"sentiment": "neg", "quality": 4.0} | _minimal_rest(), _item())

    classes = dict(schema.categorical_fields())
    assert schema.field("quality").category_of(values["quality"]) in classes["quality"]
    assert schema.field("pref").category_of(values["pref"]) == "A"
    assert schema.field("sentiment").category_of(values["sentiment"]) == "neg"
    with pytest.raises(TypeError):
        schema.field("answer").category_of("x")


def test_field_lookup_of_an_unknown_name_names_the_fields() -> None:
    schema = parse_schema(copy.deepcopy(EXAMPLE))

    with pytest.raises(InvalidInput) as caught:
        schema.field("sentimnet")

    assert caught.value.errors[0]["field"] == "sentimnet"
    assert '"sentiment"' in caught.value.errors[0]["allowed"]


def test_parse_schema_accepts_an_already_parsed_schema() -> None:
    schema = parse_schema(copy.deepcopy(EXAMPLE))
    assert parse_schema(schema) is schema


def test_schema_is_immutable() -> None:
    schema = parse_schema(copy.deepcopy(EXAMPLE))
    with pytest.raises(ValueError):
        schema.fields[0].name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("obj", "path", "words"),
    [
        ([], "schema", "expected an object"),
        ({}, "fields", "required"),
        ({"fields": []}, "fields", "must not be empty"),
        ({"fields": "x"}, "fields", "list"),
        ({"fields": [], "extra": 1}, "extra", "unknown key"),
        ({"fields": [5]}, "fields[0]", "expected a field object"),
        (with_field(name="a"), "fields[0].type", "no 'type'"),
        (with_field(name="a", type="choice"), "fields[0].type", 'unknown field type "choice"'),
        (with_field(name="1st", type="text"), "fields[0].name", "not valid"),
        (with_field(name="a b", type="text"), "fields[0].name", "not valid"),
        (with_field(name="x" * 65, type="text"), "fields[0].name", "too long"),
        (with_field(type="text"), "fields[0].name", '"name" is required'),
        (with_field(name="a", type="text", colour="red"), "fields[0].colour", "unknown key"),
        (with_field(name="a", type="text", required="yes"), "fields[0].required", "boolean"),
        (
            with_field(name="a", type="text", description="d" * 2001),
            "fields[0].description",
            "long",
        ),
        (with_field(name="a", type="single_choice"), "fields[0].options", "required"),
        (with_field(name="a", type="single_choice", options=[]), "fields[0].options", "empty"),
        (with_field(name="a", type="single_choice", options=[""]), "fields[0].options[0]", "empty"),
        (with_field(name="a", type="single_choice", options=[1]), "fields[0].options[0]", "str"),
        (
            with_field(name="a", type="single_choice", options=["x", "y", "x"]),
            "fields[0].options[2]",
            'duplicate option "x"',
        ),
        (
            with_field(name="a", type="single_choice", options=[str(i) for i in range(1001)]),
            "fields[0].options",
            "at most 1000",
        ),
        (
            with_field(name="a", type="multi_choice", options=["x"], min_selected=2),
            "fields[0].min_selected",
            "more than the 1 options",
        ),
        (
            with_field(
                name="a", type="multi_choice", options=["x", "y"], min_selected=2, max_selected=1
            ),
            "fields[0].max_selected",
            "less than min_selected",
        ),
        (
            with_field(name="a", type="multi_choice", options=["x"], min_selected=-1),
            "fields[0].min_selected",
            "greater than or equal",
        ),
        (with_field(name="a", type="spans", labels=["P"]), "fields[0].source", "required"),
        (
            with_field(name="a", type="spans", source="", labels=["P"]),
            "fields[0].source",
            "must not be empty",
        ),
        (with_field(name="a", type="spans", source="t", labels=[]), "fields[0].labels", "empty"),
        (
            with_field(name="a", type="spans", source="t", labels=["P", "P"]),
            "fields[0].labels[1]",
            "duplicate label",
        ),
        (with_field(name="a", type="bbox", labels=["c"], max_boxes=0), "fields[0].max_boxes", "1"),
        (with_field(name="a", type="rating", min=5, max=1), "fields[0].max", "greater than min"),
        (with_field(name="a", type="rating", min=3, max=3), "fields[0].max", "greater than min"),
        (with_field(name="a", type="rating", step=0), "fields[0].step", "positive"),
        (with_field(name="a", type="rating", step=-1), "fields[0].step", "positive"),
        (with_field(name="a", type="rating", step=3), "fields[0].max", "whole number of steps"),
        (
            with_field(name="a", type="rating", min=0, max=100, step=0.01),
            "fields[0].step",
            "at most 1000",
        ),
        (with_field(name="a", type="rating", min="1"), "fields[0].min", "must be a number"),
        (with_field(name="a", type="rating", max=True), "fields[0].max", "must be a number"),
        (with_field(name="a", type="rating", max=1e12), "fields[0].max", "between -1e9 and 1e9"),
        (with_field(name="a", type="rating", max=float("inf")), "fields[0].max", "a number"),
        (with_field(name="a", type="pairwise", allow_tie=1), "fields[0].allow_tie", "boolean"),
        (with_field(name="a", type="ranking"), "fields[0].source", "exactly one of"),
        (with_field(name="a", type="ranking", source="c", n=3), "fields[0].source", "exactly one"),
        (with_field(name="a", type="ranking", n=1), "fields[0].n", "greater than or equal to 2"),
        (with_field(name="a", type="ranking", n=2.0), "fields[0].n", "integer"),
        (
            with_field(name="a", type="text", min_length=10, max_length=5),
            "fields[0].max_length",
            "less than min_length",
        ),
        (
            with_field(name="a", type="text", max_length=100_001),
            "fields[0].max_length",
            "less than or equal to 100000",
        ),
        (with_field(name="a", type="rubric", criteria=[]), "fields[0].criteria", "empty"),
        (
            with_field(name="a", type="rubric", criteria=[{"name": "c", "min": 2, "max": 1}]),
            "fields[0].criteria[0].max",
            "greater than min",
        ),
        (
            with_field(name="a", type="rubric", criteria=[{"name": "c", "max": 1}]),
            "fields[0].criteria[0].min",
            "required for a rubric criterion",
        ),
        (
            with_field(
                name="a", type="rubric", criteria=[{"name": "c", "min": 0, "max": 1, "weight": 2}]
            ),
            "fields[0].criteria[0].weight",
            "unknown key",
        ),
        (
            with_field(
                name="a",
                type="rubric",
                criteria=[{"name": "c", "min": 0, "max": 1}, {"name": "c", "min": 0, "max": 2}],
            ),
            "fields[0].criteria[1]",
            "duplicate criterion",
        ),
        (
            with_field(
                name="a", type="rubric", criteria=[{"name": "c", "min": 0, "max": 1, "step": 0.3}]
            ),
            "fields[0].criteria[0].max",
            "whole number of steps",
        ),
    ],
)
def test_invalid_schema_is_rejected_at_the_offending_key(obj: Any, path: str, words: str) -> None:
    errors = schema_errors(obj)

    assert path in errors, errors
    assert words in errors[path]


def test_unknown_key_error_lists_the_keys_a_field_accepts() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_schema(with_field(name="a", type="spans", source="t", labels=["P"], overlap=True))

    entry = caught.value.errors[0]
    assert entry["field"] == "fields[0].overlap"
    assert '"allow_overlap"' in entry["allowed"]


def test_duplicate_field_names_are_rejected() -> None:
    errors = schema_errors(
        {"fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "rating"}]}
    )

    assert "duplicate field name" in errors["fields[1].name"]


def test_duplicate_names_are_reported_together_with_other_problems() -> None:
    errors = schema_errors(
        {
            "fields": [
                {"name": "a", "type": "text"},
                {"name": "a", "type": "rating", "step": 0},
            ]
        }
    )

    assert set(errors) == {"fields[1].name", "fields[1].step"}


def test_every_problem_is_reported_at_once_with_a_count() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_schema(
            {
                "fields": [
                    {"name": "a", "type": "single_choice", "options": []},
                    {"name": "b", "type": "rating", "min": 4, "max": 2},
                    {"name": "c", "type": "nope"},
                ]
            }
        )

    assert len(caught.value.errors) == 3
    assert caught.value.detail == "invalid label schema: 3 problems"
    assert "single_choice" in (caught.value.hint or "")


def test_too_many_fields_is_rejected_before_parsing_them() -> None:
    errors = schema_errors({"fields": [{"name": f"f{i}", "type": "text"} for i in range(201)]})

    assert "at most 200" in errors["fields"]


def test_two_hundred_fields_are_allowed() -> None:
    schema = parse_schema({"fields": [{"name": f"f{i}", "type": "text"} for i in range(200)]})
    assert len(schema.fields) == 200


def test_direct_construction_enforces_the_same_rules() -> None:
    with pytest.raises(ValueError):
        LabelSchema.model_validate(with_field(name="a", type="rating", min=5, max=1))


def _item() -> dict[str, Any]:
    return {"text": "Alice met Bob.", "candidates": ["x", "y"]}


def _minimal_rest() -> dict[str, Any]:
    return {
        "topics": [],
        "entities": [],
        "boxes": [],
        "quality": 3,
        "pref": {"choice": "A"},
        "order": [1, 0],
        "answer": "ok",
        "rubric": {"helpful": 5, "harmless": 1},
    }
