"""The label field types and how each checks an answer value.

Positional types (spans, boxes, rankings) live in ``fields_positional``; this module holds the
rest and the ``LabelField`` union that a schema is a list of.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field

from labelvault.domain.fields_base import (
    MAX_CRITERIA,
    MAX_TEXT_LENGTH,
    BaseField,
    Category,
    Choices,
    Description,
    FieldKind,
    Name,
    Number,
    Problem,
    Scale,
    duplicate_problems,
    enumerate_allowed,
    is_int,
    json_type,
    problem,
    quote,
)
from labelvault.domain.fields_positional import BBoxField, RankingField, SpansField

PAIRWISE_CHOICES = ("A", "B", "tie")
PAIRWISE_KEYS = frozenset({"choice", "strength"})
MAX_STRENGTH = 3


class SingleChoiceField(BaseField):
    """Exactly one of ``options``; the answer value is the option string."""

    type: Literal["single_choice"]
    options: Choices

    @cached_property
    def _option_set(self) -> frozenset[str]:
        return frozenset(self.options)

    def spec_problems(self) -> list[Problem]:
        return duplicate_problems(self.options, "options", "option")

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        if type(value) is str and value in self._option_set:
            return value
        if isinstance(value, str):
            message = f"{quote(value)} is not one of the options"
        else:
            message = f"expected one option as a string, got {json_type(value)}"
        problems.append(problem(path, message, enumerate_allowed(self.options)))
        return value

    def categories(self) -> list[Category]:
        return list(self.options)

    def category_of(self, value: Any) -> Category:
        return str(value)


class MultiChoiceField(BaseField):
    """Distinct options, between ``min_selected`` and ``max_selected`` of them.

    The answer comes back in the order of ``options`` so equal selections compare equal.
    """

    type: Literal["multi_choice"]
    options: Choices
    min_selected: Annotated[int, Field(ge=0)] = 0
    max_selected: Annotated[int, Field(ge=1)] | None = None

    @cached_property
    def _rank(self) -> dict[str, int]:
        return {option: index for index, option in enumerate(self.options)}

    @cached_property
    def _upper(self) -> int:
        return len(self.options) if self.max_selected is None else self.max_selected

    def spec_problems(self) -> list[Problem]:
        found = duplicate_problems(self.options, "options", "option")
        if self.min_selected > len(self.options):
            found.append(
                problem(
                    "min_selected",
                    f"min_selected {self.min_selected} is more than the {len(self.options)}"
                    " options",
                    f"0..{len(self.options)}",
                )
            )
        if self.max_selected is not None and self.max_selected < self.min_selected:
            found.append(
                problem(
                    "max_selected",
                    f"max_selected {self.max_selected} is less than min_selected"
                    f" {self.min_selected}",
                    f">= {self.min_selected}",
                )
            )
        return found

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, list):
            problems.append(
                problem(
                    path,
                    f"expected a list of options, got {json_type(value)}",
                    enumerate_allowed(self.options),
                )
            )
            return value
        rank = self._rank
        before = len(problems)
        seen: dict[str, int] = {}
        for index, option in enumerate(value[: len(self.options) + 1]):
            if type(option) is not str or option not in rank:
                shown = quote(option) if isinstance(option, str) else json_type(option)
                problems.append(
                    problem(
                        f"{path}[{index}]",
                        f"{shown} is not one of the options",
                        enumerate_allowed(self.options),
                    )
                )
            elif option in seen:
                problems.append(
                    problem(
                        f"{path}[{index}]",
                        f"{quote(option)} is selected twice (also at {path}[{seen[option]}])",
                    )
                )
            else:
                seen[option] = index
        if not self.min_selected <= len(value) <= self._upper:
            problems.append(
                problem(
                    path,
                    f"{len(value)} options selected; this field takes"
                    f" {self.min_selected} to {self._upper}",
                    f"{self.min_selected}..{self._upper} options",
                )
            )
        if len(problems) > before:
            return value
        return sorted(value, key=rank.__getitem__)


class RatingField(BaseField):
    """A number in ``[min, max]`` on the grid ``min + k * step`` (any number if step is null).

    Values are snapped to the exact grid point: ints when min and step are whole numbers.
    """

    type: Literal["rating"]
    min: Number = 1
    max: Number = 5
    step: Number | None = 1

    @cached_property
    def scale(self) -> Scale:
        """The numeric scale the answer must fall on."""
        return Scale(self.min, self.max, self.step)

    def spec_problems(self) -> list[Problem]:
        return self.scale.spec_problems()

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        return self.scale.check(value, path, "rating", problems)

    def categories(self) -> list[Category] | None:
        if self.step is None:
            return None
        return list(self.scale.grid())

    def category_of(self, value: Any) -> Category:
        if self.step is None:
            return super().category_of(value)
        number: int | float = value
        return number


class PairwiseField(BaseField):
    """A preference between two outputs shown as A and B: ``{"choice", "strength"?}``."""

    type: Literal["pairwise"]
    allow_tie: bool = True
    strength: bool = False

    @cached_property
    def _choices(self) -> tuple[str, ...]:
        return PAIRWISE_CHOICES if self.allow_tie else PAIRWISE_CHOICES[:2]

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            problems.append(
                problem(
                    path,
                    f'expected an object like {{"choice": "A"}}, got {json_type(value)}',
                )
            )
            return value
        before = len(problems)
        for key in value:
            if key not in PAIRWISE_KEYS:
                allowed = ["choice", "strength"] if self.strength else ["choice"]
                problems.append(
                    problem(
                        f"{path}.{key}",
                        f"unknown key {quote(str(key))}",
                        enumerate_allowed(allowed),
                    )
                )
        choice = value.get("choice")
        if choice not in self._choices or type(choice) is not str:
            if choice == "tie" and not self.allow_tie:
                message = "this field does not allow a tie; choose A or B"
            elif choice is None:
                message = "choice is missing"
            else:
                shown = quote(choice) if isinstance(choice, str) else json_type(choice)
                message = f"choice {shown} is not valid"
            problems.append(problem(f"{path}.choice", message, enumerate_allowed(self._choices)))
        strength = value.get("strength")
        if strength is not None:
            if not self.strength:
                problems.append(
                    problem(
                        f"{path}.strength",
                        "this field does not collect a strength; send only the choice",
                    )
                )
            elif not is_int(strength) or not 1 <= strength <= MAX_STRENGTH:
                shown = str(strength) if is_int(strength) else json_type(strength)
                problems.append(
                    problem(
                        f"{path}.strength",
                        f"strength {shown} must be an integer from 1 (slight) to"
                        f" {MAX_STRENGTH} (strong)",
                        f"1..{MAX_STRENGTH}",
                    )
                )
        if len(problems) > before:
            return value
        normalized: dict[str, Any] = {"choice": choice}
        if strength is not None:
            normalized["strength"] = strength
        return normalized

    def categories(self) -> list[Category]:
        return list(self._choices)

    def category_of(self, value: Any) -> Category:
        choice: str = value["choice"]
        return choice


class TextField(BaseField):
    """Free text (an answer, a correction, an SFT response) of bounded length."""

    type: Literal["text"]
    min_length: Annotated[int, Field(ge=0, le=MAX_TEXT_LENGTH)] = 0
    max_length: Annotated[int, Field(ge=1, le=MAX_TEXT_LENGTH)] = MAX_TEXT_LENGTH

    def spec_problems(self) -> list[Problem]:
        if self.min_length > self.max_length:
            return [
                problem(
                    "max_length",
                    f"max_length {self.max_length} is less than min_length {self.min_length}",
                    f"{self.min_length}..{MAX_TEXT_LENGTH}",
                )
            ]
        return []

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        allowed = f"{self.min_length}..{self.max_length} characters"
        if not isinstance(value, str):
            problems.append(problem(path, f"expected text, got {json_type(value)}", allowed))
        elif len(value) < self.min_length:
            problems.append(
                problem(
                    path,
                    f"the text has {len(value)} characters; at least {self.min_length} needed",
                    allowed,
                )
            )
        elif len(value) > self.max_length:
            problems.append(
                problem(
                    path,
                    f"the text has {len(value)} characters; at most {self.max_length} allowed",
                    allowed,
                )
            )
        return value


class RubricCriterion(BaseModel):
    """One scored criterion of a rubric."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    name: Name
    min: Number
    max: Number
    step: Number | None = None
    description: Description | None = None

    @cached_property
    def scale(self) -> Scale:
        """The numeric scale this criterion's score must fall on."""
        return Scale(self.min, self.max, self.step)


class RubricField(BaseField):
    """A score for every criterion: ``{criterion_name: number}``."""

    type: Literal["rubric"]
    criteria: Annotated[list[RubricCriterion], Field(min_length=1, max_length=MAX_CRITERIA)]

    def spec_problems(self) -> list[Problem]:
        found = duplicate_problems([c.name for c in self.criteria], "criteria", "criterion")
        for index, criterion in enumerate(self.criteria):
            found.extend(criterion.scale.spec_problems(f"criteria[{index}]."))
        return found

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.criteria)

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        names = [c.name for c in self.criteria]
        if not isinstance(value, dict):
            problems.append(
                problem(
                    path,
                    f"expected an object with a score per criterion, got {json_type(value)}",
                    enumerate_allowed(names),
                )
            )
            return value
        before = len(problems)
        normalized: dict[str, Any] = {}
        for criterion in self.criteria:
            score = value.get(criterion.name)
            score_path = f"{path}.{criterion.name}"
            if score is None:
                problems.append(
                    problem(
                        score_path,
                        f"criterion {quote(criterion.name)} has no score; score every criterion",
                        criterion.scale.describe(),
                    )
                )
                continue
            normalized[criterion.name] = criterion.scale.check(score, score_path, "score", problems)
        for key in value:
            if key not in self._names:
                problems.append(
                    problem(
                        f"{path}.{key}",
                        f"{quote(str(key))} is not a criterion of this rubric",
                        enumerate_allowed(names),
                    )
                )
        return value if len(problems) > before else normalized


LabelField = Annotated[
    SingleChoiceField
    | MultiChoiceField
    | SpansField
    | BBoxField
    | RatingField
    | PairwiseField
    | RankingField
    | TextField
    | RubricField,
    Discriminator("type"),
]
"""Any label field; the ``type`` key picks the model."""

FIELD_MODELS: dict[FieldKind, type[BaseField]] = {
    FieldKind.SINGLE_CHOICE: SingleChoiceField,
    FieldKind.MULTI_CHOICE: MultiChoiceField,
    FieldKind.SPANS: SpansField,
    FieldKind.BBOX: BBoxField,
    FieldKind.RATING: RatingField,
    FieldKind.PAIRWISE: PairwiseField,
    FieldKind.RANKING: RankingField,
    FieldKind.TEXT: TextField,
    FieldKind.RUBRIC: RubricField,
}

__all__ = [
    "FIELD_MODELS",
    "BBoxField",
    "BaseField",
    "Category",
    "FieldKind",
    "LabelField",
    "MultiChoiceField",
    "PairwiseField",
    "RankingField",
    "RatingField",
    "RubricCriterion",
    "RubricField",
    "SingleChoiceField",
    "SpansField",
    "TextField",
]
