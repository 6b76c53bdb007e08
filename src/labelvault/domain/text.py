"""Checks for free text that is stored as text (names, emails, ids), not as ciphertext.

PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate cannot be encoded as UTF-8;
both are refused up front with a clear message instead of failing deep in the database.
"""

from __future__ import annotations

from typing import Any

from labelvault.errors import InvalidInput


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid Unicode text"
    return None


def check_text(field: str, value: Any, *, max_length: int, min_length: int = 1) -> str:
    """Return `value` if it is a storable string within the length bounds, else raise."""
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field} must be text",
            hint=f"send {field} as a JSON string",
            errors=[{"field": field, "message": "expected a string"}],
        )
    problem = text_problem(value)
    if problem is None and not min_length <= len(value) <= max_length:
        problem = f"must be {min_length} to {max_length} characters long, got {len(value)}"
    if problem:
        raise InvalidInput(
            f"{field} {problem}",
            hint=f"send {field} as plain text of {min_length} to {max_length} characters",
            errors=[{"field": field, "message": problem}],
        )
    return value
