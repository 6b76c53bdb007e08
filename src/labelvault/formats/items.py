"""What a reader yields, and the rules that turn one parsed object into an item.

Every import format funnels its rows through `item_from_object` (JSON-like formats) or
`normalize_external_id` (CSV), so an `id` means the same thing whatever the file type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_EXTERNAL_ID_CHARS = 256
"""Longest external id accepted; longer ids are rejected rather than truncated."""

SIZE_HINT = "split the item or raise LABELVAULT_MAX_ITEM_BYTES"


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One importable item: where it was in the file, its optional external id, its payload."""

    line: int
    external_id: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowError:
    """One row that could not be imported; `message` already names the row and the fix."""

    line: int
    message: str


class RowProblem(ValueError):
    """A row-level defect; readers turn it into a `RowError` with the row's position."""


_TYPE_NAMES: dict[type, str] = {
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "null",
}


def json_type_name(value: Any) -> str:
    """Name a decoded JSON value the way a user would say it ("a list", "a string")."""
    if isinstance(value, dict):
        return "an object"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def normalize_external_id(value: Any) -> str | None:
    """Return the external id as a string, or raise RowProblem saying what is wrong with it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RowProblem(
            f"id must be a string or an integer, got {json_type_name(value)}; "
            "use a string or integer id, or leave it out"
        )
    text = value if isinstance(value, str) else str(value)
    if not text:
        raise RowProblem("id is empty; give the item a non-empty id or leave the id out")
    if "\x00" in text:
        raise RowProblem("id contains a NUL character (\\u0000); remove it from the id")
    if len(text) > MAX_EXTERNAL_ID_CHARS:
        raise RowProblem(
            f"id is {len(text)} characters long, over the {MAX_EXTERNAL_ID_CHARS} limit; "
            "use a shorter id"
        )
    return text


def item_from_object(line: int, obj: dict[str, Any]) -> ParsedItem:
    """Split a decoded object into external id and payload.

    `{"id": ..., "data": {...}}` (or `{"data": {...}}` alone) is the Label Studio task
    shape: the payload is then the inner `data` object. The object is freshly decoded and
    owned by the caller's reader, so it is modified in place rather than copied.
    """
    if "id" not in obj and "data" not in obj:
        return ParsedItem(line, None, obj)
    external_id = normalize_external_id(obj.pop("id", None))
    if len(obj) == 1 and isinstance(obj.get("data"), dict):
        obj = obj["data"]
    return ParsedItem(line, external_id, obj)


def format_size(n_bytes: int) -> str:
    """Human size with binary units: 512 bytes, 3.2 KB, 1 MB."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    value, unit = (n_bytes / 1024, "KB") if n_bytes < 1024 * 1024 else (n_bytes / 1048576, "MB")
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"


def oversized_message(where: str, size: int, limit: int) -> str:
    """The message for a row over the size limit; `where` is e.g. "line 17"."""
    return f"{where}: row is {format_size(size)}, over the {format_size(limit)} limit; {SIZE_HINT}"
