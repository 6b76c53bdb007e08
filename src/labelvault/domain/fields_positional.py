"""Label fields whose answers point into the item: text spans, image boxes and rankings."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field

from labelvault.domain.fields_base import (
    MAX_ANSWER_ENTRIES,
    BaseField,
    Choices,
    Problem,
    Source,
    as_number,
    duplicate_problems,
    enumerate_allowed,
    fmt_number,
    is_int,
    json_type,
    problem,
    quote,
)

SPAN_KEYS = frozenset({"start", "end", "label", "text"})
BOX_KEYS = frozenset({"x", "y", "w", "h", "label"})
BOX_EDGE_TOLERANCE = 1e-9


def _unknown_keys(
    entry: Mapping[str, Any], known: frozenset[str], path: str, problems: list[Problem]
) -> None:
    for key in entry:
        if key not in known:
            problems.append(
                problem(
                    f"{path}.{key}",
                    f"unknown key {quote(str(key))}",
                    enumerate_allowed(sorted(known)),
                )
            )


def _not_a_list(path: str, value: object, what: str, problems: list[Problem]) -> bool:
    if not isinstance(value, list):
        problems.append(problem(path, f"expected a list of {what}, got {json_type(value)}"))
        return True
    if len(value) > MAX_ANSWER_ENTRIES:
        problems.append(
            problem(
                path,
                f"{len(value)} {what} is too many; at most {MAX_ANSWER_ENTRIES} per answer",
                f"0..{MAX_ANSWER_ENTRIES} entries",
            )
        )
        return True
    return False


class SpansField(BaseField):
    """Labelled character ranges of the item's text at ``item[source]``.

    Offsets count Python ``str`` characters (code points), end exclusive; a browser must convert
    from UTF-16 offsets. Spans come back sorted by position.
    """

    type: Literal["spans"]
    source: Source
    labels: Choices
    allow_overlap: bool = False

    @cached_property
    def _label_set(self) -> frozenset[str]:
        return frozenset(self.labels)

    def spec_problems(self) -> list[Problem]:
        return duplicate_problems(self.labels, "labels", "label")

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        text = item.get(self.source)
        if not isinstance(text, str):
            problems.append(
                problem(
                    path,
                    f"the item has no text under {quote(self.source)} to annotate (found"
                    f" {json_type(text)}); import items with that key or fix the field's source",
                )
            )
            return value
        if _not_a_list(path, value, "spans", problems):
            return value
        accepted: list[tuple[int, int, str, int]] = []
        for index, span in enumerate(value):
            span_path = f"{path}[{index}]"
            if not isinstance(span, dict):
                problems.append(
                    problem(
                        span_path,
                        f"expected a span object {{start, end, label}}, got {json_type(span)}",
                    )
                )
                continue
            if self._check_span(span, text, span_path, problems):
                accepted.append((span["start"], span["end"], span["label"], index))
        if len(accepted) != len(value) or not self._no_overlaps(accepted, path, problems):
            return value
        normalized = []
        for start, end, label, index in sorted(accepted):
            span = {"start": start, "end": end, "label": label}
            if "text" in value[index]:
                span["text"] = value[index]["text"]
            normalized.append(span)
        return normalized

    def _check_span(
        self, span: dict[str, Any], text: str, path: str, problems: list[Problem]
    ) -> bool:
        before = len(problems)
        _unknown_keys(span, SPAN_KEYS, path, problems)
        length = len(text)
        start: Any = span.get("start")
        end: Any = span.get("end")
        label: Any = span.get("label")
        if not is_int(start):
            problems.append(
                problem(
                    f"{path}.start",
                    f"start must be an integer character offset, got {json_type(start)}",
                    f"0..{max(length - 1, 0)}",
                )
            )
        elif not 0 <= start < length:
            problems.append(
                problem(
                    f"{path}.start",
                    f"start {start} is outside the text of length {length}",
                    f"0..{max(length - 1, 0)}",
                )
            )
        if not is_int(end):
            problems.append(
                problem(
                    f"{path}.end",
                    f"end must be an integer character offset, got {json_type(end)}",
                    f"1..{length}",
                )
            )
        elif end > length:
            problems.append(
                problem(
                    f"{path}.end", f"end {end} is beyond the text length {length}", f"0..{length}"
                )
            )
        elif is_int(start) and end <= start:
            problems.append(
                problem(
                    f"{path}.end",
                    f"end {end} must be greater than start {start} (end is exclusive)",
                    f"{start + 1}..{length}",
                )
            )
        if not isinstance(label, str) or label not in self._label_set:
            shown = quote(label) if isinstance(label, str) else json_type(label)
            problems.append(
                problem(
                    f"{path}.label",
                    f"label {shown} is not one of this field's labels",
                    enumerate_allowed(self.labels),
                )
            )
        if len(problems) == before and "text" in span and span["text"] != text[start:end]:
            problems.append(
                problem(
                    f"{path}.text",
                    f"text {quote(str(span['text']))} does not match the item's text at"
                    f" {start}..{end}, which is {quote(text[start:end])}",
                    quote(text[start:end]),
                )
            )
        return len(problems) == before

    def _no_overlaps(
        self, spans: list[tuple[int, int, str, int]], path: str, problems: list[Problem]
    ) -> bool:
        """Reject exact repeats always, and overlaps unless the field allows them.

        The later span in the answer is the one reported.
        """
        before = len(problems)
        first_seen: dict[tuple[int, int, str], int] = {}
        for start, end, label, index in spans:
            key = (start, end, label)
            if key in first_seen:
                problems.append(
                    problem(
                        f"{path}[{index}]",
                        f"span {start}..{end} {quote(label)} repeats {path}[{first_seen[key]}]",
                    )
                )
            else:
                first_seen[key] = index
        if not self.allow_overlap and len(problems) == before:
            reach, reach_index = -1, -1
            for start, end, _, index in sorted(spans, key=lambda s: (s[0], s[1], s[3])):
                if start < reach:
                    later, other = max(index, reach_index), min(index, reach_index)
                    problems.append(
                        problem(
                            f"{path}[{later}]",
                            f"span {path}[{later}] overlaps {path}[{other}]; this field does not"
                            " allow overlapping spans",
                        )
                    )
                if end > reach:
                    reach, reach_index = end, index
        return len(problems) == before


class BBoxField(BaseField):
    """Labelled boxes on an image, in coordinates normalized to [0, 1] (x, y = top-left)."""

    type: Literal["bbox"]
    labels: Choices
    max_boxes: Annotated[int, Field(ge=1, le=MAX_ANSWER_ENTRIES)] = 100
    source: Source | None = None
    """Item key holding the image reference; used by the labeling UI and exports."""

    @cached_property
    def _label_set(self) -> frozenset[str]:
        return frozenset(self.labels)

    def spec_problems(self) -> list[Problem]:
        return duplicate_problems(self.labels, "labels", "label")

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        if _not_a_list(path, value, "boxes", problems):
            return value
        if len(value) > self.max_boxes:
            problems.append(
                problem(
                    path,
                    f"{len(value)} boxes is more than this field's max_boxes {self.max_boxes}",
                    f"0..{self.max_boxes} boxes",
                )
            )
        for index, box in enumerate(value):
            box_path = f"{path}[{index}]"
            if not isinstance(box, dict):
                problems.append(
                    problem(
                        box_path,
                        f"expected a box object {{x, y, w, h, label}}, got {json_type(box)}",
                    )
                )
                continue
            self._check_box(box, box_path, problems)
        return value

    def _check_box(self, box: dict[str, Any], path: str, problems: list[Problem]) -> None:
        _unknown_keys(box, BOX_KEYS, path, problems)
        numbers: dict[str, float] = {}
        for key, low_open in (("x", False), ("y", False), ("w", True), ("h", True)):
            number = as_number(box.get(key))
            allowed = "0 < value <= 1" if low_open else "0..1"
            if number is None:
                problems.append(
                    problem(
                        f"{path}.{key}",
                        f"{key} must be a number normalized to [0, 1],"
                        f" got {json_type(box.get(key))}",
                        allowed,
                    )
                )
            elif (number <= 0 if low_open else number < 0) or number > 1:
                rule = "must be in (0, 1]" if low_open else "must be in [0, 1]"
                problems.append(
                    problem(
                        f"{path}.{key}",
                        f"{key} {fmt_number(number)} {rule}; coordinates are fractions of the"
                        " image size",
                        allowed,
                    )
                )
            else:
                numbers[key] = number
        for origin, size, edge in (("x", "w", "right"), ("y", "h", "bottom")):
            if origin in numbers and size in numbers:
                far = numbers[origin] + numbers[size]
                if far > 1 + BOX_EDGE_TOLERANCE:
                    problems.append(
                        problem(
                            f"{path}.{size}",
                            f"the box's {edge} edge {origin}+{size} = {fmt_number(far)} is past"
                            " the image edge 1",
                            f"0 < {size} <= {fmt_number(round(1 - numbers[origin], 9))}",
                        )
                    )
        label = box.get("label")
        if not isinstance(label, str) or label not in self._label_set:
            shown = quote(label) if isinstance(label, str) else json_type(label)
            problems.append(
                problem(
                    f"{path}.label",
                    f"label {shown} is not one of this field's labels",
                    enumerate_allowed(self.labels),
                )
            )


class RankingField(BaseField):
    """An order of candidates, best first, as a permutation of their indices.

    The candidates are the list at ``item[source]``, or ``n`` fixed positions.
    """

    type: Literal["ranking"]
    source: Source | None = None
    n: Annotated[int, Field(ge=2, le=MAX_ANSWER_ENTRIES)] | None = None

    def spec_problems(self) -> list[Problem]:
        if (self.source is None) == (self.n is None):
            return [
                problem(
                    "source",
                    "a ranking field needs exactly one of 'source' (the item key holding the list"
                    " of candidates) or 'n' (a fixed number of candidates)",
                )
            ]
        return []

    def check(self, value: Any, item: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
        count = self.n
        if count is None:
            candidates = item.get(self.source or "")
            if not isinstance(candidates, list):
                problems.append(
                    problem(
                        path,
                        f"the item has no candidate list under {quote(self.source or '')} (found"
                        f" {json_type(candidates)}); import items with that key or fix the"
                        " field's source",
                    )
                )
                return value
            count = len(candidates)
        if _not_a_list(path, value, "candidate indices", problems):
            return value
        allowed = f"a permutation of 0..{count - 1}" if count else "an empty list"
        first_seen: dict[int, int] = {}
        for position, index in enumerate(value):
            entry_path = f"{path}[{position}]"
            if not is_int(index):
                problems.append(
                    problem(
                        entry_path,
                        f"expected a candidate index (integer), got {json_type(index)}",
                        f"0..{count - 1}",
                    )
                )
            elif not 0 <= index < count:
                problems.append(
                    problem(
                        entry_path,
                        f"candidate index {index} does not exist; there are {count} candidates",
                        f"0..{count - 1}",
                    )
                )
            elif index in first_seen:
                problems.append(
                    problem(
                        entry_path,
                        f"candidate {index} is ranked twice (also at {path}[{first_seen[index]}])",
                        allowed,
                    )
                )
            else:
                first_seen[index] = position
        if len(value) != count:
            message = (
                f"the ranking lists {len(value)} candidates but there are {count}; rank every"
                " candidate exactly once, best first"
            )
            if len(first_seen) == len(value):
                missing = [str(i) for i in range(count) if i not in first_seen][:20]
                message += f" (not ranked: {', '.join(missing)})"
            problems.append(problem(path, message, allowed))
        return value
