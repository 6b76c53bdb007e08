"""A project's label schema: parsing it from JSON and checking answers against it.

``parse_schema`` turns the REST/SDK JSON form into a frozen ``LabelSchema``;
``LabelSchema.validate_answer`` is on the submit path and checks values with plain Python,
collecting every problem with a path that starts at the field name (``entities[0].end``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, NoReturn, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from labelvault.domain.fields import (
    FIELD_MODELS,
    BaseField,
    BBoxField,
    Category,
    FieldKind,
    LabelField,
    MultiChoiceField,
    PairwiseField,
    RankingField,
    RatingField,
    RubricCriterion,
    RubricField,
    SingleChoiceField,
    SpansField,
    TextField,
)
from labelvault.domain.fields_base import (
    MAX_FIELDS,
    NAME_RULE,
    Problem,
    enumerate_allowed,
    json_type,
    problem,
    quote,
)
from labelvault.errors import InvalidInput

MAX_REPORTED_PROBLEMS = 100
SCHEMA_HINT = (
    'a schema is {"fields": [{"name": ..., "type": ..., ...}, ...]}; fix the listed keys'
    f" (field types: {', '.join(k.value for k in FieldKind)})"
)
ANSWER_HINT = (
    "fix the listed fields; the values must follow the project's label schema, shown by"
    " GET /api/v1/projects/{project_id}"
)


class LabelSchema(BaseModel):
    """The typed, validated list of label fields of a project. Immutable; share it freely."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    fields: Annotated[list[LabelField], Field(min_length=1, max_length=MAX_FIELDS)]

    @model_validator(mode="after")
    def _names_are_unique(self) -> Self:
        found = _duplicate_name_problems([{"name": f.name} for f in self.fields])
        if found:
            raise PydanticCustomError(
                "schema_rule",
                "{summary}",
                {"summary": "; ".join(p["message"] for p in found), "problems": found},
            )
        return self

    @cached_property
    def _by_name(self) -> dict[str, BaseField]:
        return {field.name: field for field in self.fields}

    @property
    def names(self) -> list[str]:
        """Field names in schema order."""
        return [field.name for field in self.fields]

    def field(self, name: str) -> BaseField:
        """The field called ``name``; InvalidInput naming the fields if there is none."""
        found = self._by_name.get(name)
        if found is None:
            raise InvalidInput(
                f"the label schema has no field {quote(name)}",
                hint=f"use one of the schema's fields: {enumerate_allowed(self.names)}",
                errors=[
                    problem(name, "no such field in the schema", enumerate_allowed(self.names))
                ],
            )
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON form; ``parse_schema(s.to_json()) == s``."""
        return {"fields": [field.spec_json() for field in self.fields]}

    def categorical_fields(self) -> list[tuple[str, list[Category]]]:
        """``(name, classes)`` for each field whose answers aggregate as one class per answer:
        single_choice (its options), rating with a step (its grid) and pairwise (A, B, tie).

        A normalized answer value maps to its class with ``field(name).category_of(value)``.
        """
        found = []
        for field in self.fields:
            classes = field.categories()
            if classes is not None:
                found.append((field.name, classes))
        return found

    def validate_answer(self, values: Any, item: Mapping[str, Any]) -> dict[str, Any]:
        """Check an answer against the schema and return its normalized values.

        ``item`` is the decoded item payload (spans and rankings read their source from it).
        Null and absent optional fields are left out of the result. Raises InvalidInput
        listing every problem, each with a path that starts at the field name.
        """
        if not isinstance(values, dict):
            raise InvalidInput(
                "answer does not match the project schema: the values must be a JSON object"
                f" keyed by field name, got {json_type(values)}",
                hint=ANSWER_HINT,
                errors=[
                    problem(
                        "values",
                        f"expected an object, got {json_type(values)}",
                        enumerate_allowed(self.names),
                    )
                ],
            )
        problems: list[Problem] = []
        normalized: dict[str, Any] = {}
        present = 0
        for field in self.fields:
            name = field.name
            value = values.get(name)
            if value is None:
                if name in values:
                    present += 1
                if field.required:
                    problems.append(
                        problem(
                            name,
                            f"{name} is required"
                            + (" and cannot be null" if name in values else ""),
                        )
                    )
                continue
            present += 1
            normalized[name] = field.check(value, item, name, problems)
        if present != len(values):
            by_name = self._by_name
            for key in values:
                if key not in by_name:
                    problems.append(
                        problem(
                            str(key),
                            f"{quote(str(key))} is not a field of this schema",
                            enumerate_allowed(self.names),
                        )
                    )
        if problems:
            count = len(problems)
            raise InvalidInput(
                f"answer does not match the project schema: {count}"
                f" problem{'' if count == 1 else 's'}",
                hint=ANSWER_HINT,
                errors=problems[:MAX_REPORTED_PROBLEMS],
            )
        return normalized


def parse_schema(obj: Any) -> LabelSchema:
    """Build a LabelSchema from its JSON form, or raise InvalidInput listing every problem.

    Each error's ``field`` is a path into the schema such as ``fields[2].options``.
    """
    if isinstance(obj, LabelSchema):
        return obj
    if not isinstance(obj, dict):
        _raise_schema_error(
            [problem("schema", f'expected an object {{"fields": [...]}}, got {json_type(obj)}')]
        )
    raw_fields = obj.get("fields")
    if isinstance(raw_fields, list) and len(raw_fields) > MAX_FIELDS:
        _raise_schema_error(
            [
                problem(
                    "fields",
                    f"{len(raw_fields)} fields is too many; a schema has at most {MAX_FIELDS}",
                    f"1..{MAX_FIELDS} fields",
                )
            ]
        )
    try:
        return LabelSchema.model_validate(obj)
    except ValidationError as exc:
        problems = _translate(exc.errors(include_url=False))
        if isinstance(raw_fields, list):
            reported = {p["field"] for p in problems}
            problems += [
                p for p in _duplicate_name_problems(raw_fields) if p["field"] not in reported
            ]
        _raise_schema_error(problems)


def _duplicate_name_problems(raw_fields: list[Any]) -> list[Problem]:
    """Duplicate names, found on the raw JSON so they show up alongside other problems."""
    first_seen: dict[str, int] = {}
    found = []
    for index, raw in enumerate(raw_fields):
        name = raw.get("name") if isinstance(raw, dict) else None
        if not isinstance(name, str):
            continue
        if name in first_seen:
            found.append(
                problem(
                    f"fields[{index}].name",
                    f"duplicate field name {quote(name)} (also fields[{first_seen[name]}]);"
                    " every field needs its own name",
                )
            )
        else:
            first_seen[name] = index
    return found


def _raise_schema_error(problems: list[Problem]) -> NoReturn:
    count = len(problems)
    raise InvalidInput(
        f"invalid label schema: {count} problem{'' if count == 1 else 's'}",
        hint=SCHEMA_HINT,
        errors=problems[:MAX_REPORTED_PROBLEMS],
    )


def _translate(errors: list[ErrorDetails]) -> list[Problem]:
    """Turn pydantic errors into problems with JSON paths and messages a user can act on."""
    problems: list[Problem] = []
    for error in errors:
        loc = list(error["loc"])
        # Inside the field union pydantic inserts the chosen type: fields, 2, "rating", "min".
        if len(loc) > 2 and loc[0] == "fields" and isinstance(loc[1], int):
            kind = str(loc.pop(2))
        else:
            kind = None
        path = _path(loc)
        ctx = error.get("ctx") or {}
        kind_of_error = error["type"]
        if kind_of_error == "schema_rule":
            for found in ctx["problems"]:
                sub = found["field"]
                full = f"{path}.{sub}" if path and sub else (path or sub)
                problems.append({**found, "field": full})
            continue
        problems.append(_message_for(kind_of_error, error, loc, path, kind, ctx))
    return problems


def _message_for(
    kind_of_error: str,
    error: ErrorDetails,
    loc: list[int | str],
    path: str,
    kind: str | None,
    ctx: dict[str, Any],
) -> Problem:
    key = path.rsplit(".", 1)[-1] if path else "schema"
    owner = f"a {kind} field" if kind else "the schema"
    if "criteria" in loc[:-1]:
        owner = "a rubric criterion"
    known = _known_keys(kind, loc)
    if kind_of_error == "union_tag_invalid":
        return problem(
            f"{path}.type",
            f"unknown field type {quote(str(ctx.get('tag')))}",
            enumerate_allowed([k.value for k in FieldKind]),
        )
    if kind_of_error == "union_tag_not_found":
        return problem(
            f"{path}.type",
            "the field has no 'type'",
            enumerate_allowed([k.value for k in FieldKind]),
        )
    if kind_of_error == "missing":
        return problem(path, f"{quote(key)} is required for {owner}")
    if kind_of_error == "extra_forbidden":
        return problem(
            path,
            f"unknown key {quote(key)} for {owner}",
            enumerate_allowed(known) if known else None,
        )
    if kind_of_error == "string_pattern_mismatch":
        return problem(path, f"{key} {quote(str(error['input']))} is not valid: use {NAME_RULE}")
    if kind_of_error in ("too_short", "string_too_short"):
        least = ctx.get("min_length")
        if least == 1:
            return problem(path, f"{key} must not be empty")
        return problem(path, f"{key} must have at least {least} entries")
    if kind_of_error == "too_long":
        return problem(path, f"{key} has too many entries; at most {ctx.get('max_length')}")
    if kind_of_error == "string_too_long":
        return problem(path, f"{key} is too long; at most {ctx.get('max_length')} characters")
    if len(loc) == 2 and loc[0] == "fields" and not isinstance(error["input"], dict):
        return problem(
            path,
            f'expected a field object like {{"name": ..., "type": ...}},'
            f" got {json_type(error['input'])}",
        )
    return problem(path, f"{key}: {error['msg']} (got {json_type(error['input'])})")


def _known_keys(kind: str | None, loc: list[int | str]) -> list[str]:
    if "criteria" in loc[:-1]:
        return list(RubricCriterion.model_fields)
    if kind in FIELD_MODELS:
        model = FIELD_MODELS[FieldKind(kind)]
        return ["name", "type", *[k for k in model.model_fields if k not in ("name", "type")]]
    if len(loc) == 1:
        return ["fields"]
    return []


def _path(loc: list[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


__all__ = [
    "BBoxField",
    "BaseField",
    "Category",
    "FieldKind",
    "LabelField",
    "LabelSchema",
    "MultiChoiceField",
    "PairwiseField",
    "RankingField",
    "RatingField",
    "RubricCriterion",
    "RubricField",
    "SingleChoiceField",
    "SpansField",
    "TextField",
    "parse_schema",
]
