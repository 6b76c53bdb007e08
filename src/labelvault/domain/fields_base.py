"""Shared pieces of the label field types: limits, the base model and problem reports.

A field spec is validated twice over: pydantic checks its shape (types, unknown keys), then
``spec_problems`` checks rules that span several keys (``min <= max``, distinct options).
Answer values are checked by plain Python in each field's ``check``: it runs on every submit,
where building pydantic models per call would cost more than the whole check.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, Self, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

# Limits keep one schema or one answer from exhausting memory or CPU on the submit path.
MAX_FIELDS = 200
MAX_OPTIONS = 1000
MAX_OPTION_LENGTH = 200
MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 2000
MAX_SOURCE_LENGTH = 200
MAX_TEXT_LENGTH = 100_000
MAX_ANSWER_ENTRIES = 10_000
MAX_CRITERIA = 100
MAX_SCALE_POINTS = 1000
MAX_ABS_NUMBER = 1e9

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
NAME_RULE = "letters, digits and underscores, not starting with a digit, at most 64 characters"

# Relative tolerance when a float must land on a grid point or a bound.
GRID_TOLERANCE = 1e-6
BOUND_TOLERANCE = 1e-9

Problem = dict[str, str]
"""One entry of ``InvalidInput.errors``: ``field`` (a path), ``message`` and maybe ``allowed``."""

Category = str | int | float
"""A class of a categorical field: an option, a point of a rating scale or a pairwise choice."""

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME_LENGTH)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)]
Source = Annotated[str, Field(min_length=1, max_length=MAX_SOURCE_LENGTH)]
Choices = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_OPTION_LENGTH)]],
    Field(min_length=1, max_length=MAX_OPTIONS),
]


def _json_number(value: object) -> int | float:
    """Accept a JSON number of sane size (not a bool, not NaN or infinite); keep ints as ints."""
    # abs() <= bound is False for NaN and infinities, and exact for huge ints (no overflow).
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not abs(value) <= MAX_ABS_NUMBER
    ):
        raise PydanticCustomError("number", "must be a number between -1e9 and 1e9")
    return value


Number = Annotated[
    int | float,
    PlainValidator(_json_number),
    WithJsonSchema({"type": "number", "minimum": -MAX_ABS_NUMBER, "maximum": MAX_ABS_NUMBER}),
]


class FieldKind(StrEnum):
    """The ``type`` of a label field."""

    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    SPANS = "spans"
    BBOX = "bbox"
    RATING = "rating"
    PAIRWISE = "pairwise"
    RANKING = "ranking"
    TEXT = "text"
    RUBRIC = "rubric"


def problem(path: str, message: str, allowed: str | None = None) -> Problem:
    """Build one error entry; ``allowed`` tells the caller what would have been accepted."""
    entry = {"field": path, "message": message}
    if allowed is not None:
        entry["allowed"] = allowed
    return entry


def json_type(value: object) -> str:
    """Name a Python value by its JSON type, as a client sending JSON would see it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def as_number(value: object) -> float | None:
    """Return ``value`` as a finite float if it is a JSON number, else None (bools are not)."""
    if type(value) is int:
        return float(value)
    if type(value) is float and math.isfinite(value):
        return value
    return None


def is_int(value: object) -> TypeGuard[int]:
    """True for a JSON integer (a Python int that is not a bool)."""
    return type(value) is int


def fmt_number(value: float) -> str:
    """Render a number the way a user wrote it: ``5`` not ``5.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def quote(text: str, limit: int = 60) -> str:
    """Quote a user string for a message, shortened so messages stay small."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return json.dumps(text, ensure_ascii=False)


def enumerate_allowed(choices: Sequence[Any], limit: int = 25) -> str:
    """List accepted values for ``allowed``; long lists are cut with a count."""
    shown = ", ".join(
        quote(c) if isinstance(c, str) else fmt_number(c) for c in list(choices)[:limit]
    )
    if len(choices) > limit:
        shown += f", ... ({len(choices)} in all)"
    return shown


def duplicate_problems(values: Sequence[str], key: str, what: str) -> list[Problem]:
    """Report each repeated entry of a list that must hold distinct values."""
    first_seen: dict[str, int] = {}
    found = []
    for index, value in enumerate(values):
        if value in first_seen:
            found.append(
                problem(
                    f"{key}[{index}]",
                    f"duplicate {what} {quote(value)} (also at {key}[{first_seen[value]}]);"
                    f" each {what} must appear once",
                )
            )
        else:
            first_seen[value] = index
    return found


def canonical_json(model: BaseModel) -> dict[str, Any]:
    """Dump a spec model with every key spelled out, so the form documents itself.

    Keys whose value is null and whose default is null are left out; a null that differs
    from the default (a rating's ``step: null``) is kept so the form round-trips.
    """
    body: dict[str, Any] = {}
    for key, info in type(model).model_fields.items():
        value = getattr(model, key)
        if value is None and info.default is None:
            continue
        if isinstance(value, BaseModel):
            value = canonical_json(value)
        elif isinstance(value, list):
            value = [canonical_json(v) if isinstance(v, BaseModel) else v for v in value]
        body[key] = value
    return body


class Scale:
    """A closed numeric range, optionally restricted to the grid ``low + k * step``.

    Values on a grid are snapped to the exact grid point so that equal answers compare equal;
    a grid whose ``low`` and ``step`` are whole numbers yields ints, otherwise floats.
    """

    __slots__ = ("low", "high", "step", "points", "integral")

    def __init__(self, low: float, high: float, step: float | None) -> None:
        self.low = float(low)
        self.high = float(high)
        self.step = None if step is None else float(step)
        self.points = 0
        self.integral = False
        if self.step is not None and self.step > 0 and self.high >= self.low:
            span = (self.high - self.low) / self.step
            if span <= MAX_SCALE_POINTS:
                self.points = round(span) + 1
            self.integral = self.low.is_integer() and self.step.is_integer()

    def point(self, k: int) -> int | float:
        """The k-th grid point, in its canonical type."""
        assert self.step is not None
        value = self.low + k * self.step
        return int(round(value)) if self.integral else round(value, 9)

    def grid(self) -> list[int | float]:
        """Every point of the grid, lowest first."""
        return [self.point(k) for k in range(self.points)]

    def describe(self) -> str:
        """The accepted values in words, for ``allowed``."""
        bounds = f"{fmt_number(self.low)}..{fmt_number(self.high)}"
        if self.step is None:
            return bounds
        if self.points <= 11:
            return enumerate_allowed(self.grid())
        return f"{bounds} in steps of {fmt_number(self.step)}"

    def spec_problems(self, prefix: str = "") -> list[Problem]:
        """Rules on the scale itself; ``prefix`` is the path of the object holding min/max."""
        found = []
        if self.low >= self.high:
            found.append(
                problem(
                    f"{prefix}max",
                    f"max {fmt_number(self.high)} must be greater than min {fmt_number(self.low)}",
                )
            )
            return found
        if self.step is None:
            return found
        if self.step <= 0:
            found.append(
                problem(f"{prefix}step", f"step {fmt_number(self.step)} must be positive", "> 0")
            )
            return found
        span = (self.high - self.low) / self.step
        if span + 1 > MAX_SCALE_POINTS:
            found.append(
                problem(
                    f"{prefix}step",
                    f"step {fmt_number(self.step)} makes {math.floor(span) + 1} points between"
                    f" min and max; at most {MAX_SCALE_POINTS} are allowed (use a larger step,"
                    " or step null for a continuous scale)",
                )
            )
        elif abs(span - round(span)) > GRID_TOLERANCE:
            found.append(
                problem(
                    f"{prefix}max",
                    f"max {fmt_number(self.high)} is not min plus a whole number of steps of"
                    f" {fmt_number(self.step)}; choose min, max and step so the grid ends on max",
                )
            )
        return found

    def check(self, value: object, path: str, what: str, problems: list[Problem]) -> Any:
        """Validate one number against the scale; return it snapped to the grid."""
        number = as_number(value)
        if number is None:
            problems.append(
                problem(
                    path,
                    f"{what} must be a number, got {json_type(value)}",
                    self.describe(),
                )
            )
            return value
        # A grid snaps values within rounding error onto its ends; a continuous scale is exact.
        tolerance = 0.0
        if self.step is not None:
            tolerance = BOUND_TOLERANCE * max(1.0, abs(self.low), abs(self.high))
        if number < self.low - tolerance or number > self.high + tolerance:
            problems.append(
                problem(
                    path,
                    f"{what} {fmt_number(number)} is outside"
                    f" {fmt_number(self.low)}..{fmt_number(self.high)}",
                    self.describe(),
                )
            )
            return value
        if self.step is None:
            return value
        steps = (number - self.low) / self.step
        nearest = round(steps)
        if abs(steps - nearest) > GRID_TOLERANCE:
            problems.append(
                problem(
                    path,
                    f"{what} {fmt_number(number)} is not on the scale: values go from"
                    f" {fmt_number(self.low)} in steps of {fmt_number(self.step)}",
                    self.describe(),
                )
            )
            return value
        return self.point(nearest)


class BaseField(BaseModel):
    """What every label field has: a name, a type, ``required`` and a ``description``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    name: Name
    required: bool = True
    description: Description | None = None

    @property
    def kind(self) -> FieldKind:
        """The field's type as an enum member."""
        return FieldKind(getattr(self, "type"))  # noqa: B009 - ``type`` is declared per subclass

    def spec_problems(self) -> list[Problem]:
        """Rules spanning several keys; paths are relative to the field (``options[2]``)."""
        return []

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        """Validate a non-null answer value; append problems; return the normalized value."""
        raise NotImplementedError

    def categories(self) -> list[Category] | None:
        """The classes if answers of this field can be aggregated as categorical, else None."""
        return None

    def category_of(self, value: Any) -> Category:
        """The class of a normalized answer value (only for categorical fields)."""
        raise TypeError(f"{self.kind} field {self.name!r} is not categorical")

    def spec_json(self) -> dict[str, Any]:
        """The canonical JSON form of the field: name and type first, every key spelled out."""
        body = canonical_json(self)
        return {"name": body.pop("name"), "type": body.pop("type"), **body}

    @model_validator(mode="after")
    def _enforce_spec_rules(self) -> Self:
        found = self.spec_problems()
        if found:
            raise PydanticCustomError(
                "schema_rule",
                "{summary}",
                {"summary": "; ".join(p["message"] for p in found), "problems": found},
            )
        return self
