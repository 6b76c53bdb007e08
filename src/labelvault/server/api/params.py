"""Shared parameter types: ids and cursors are bounded to the database's 64-bit range."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id.")]
AfterQuery = Annotated[
    int, Query(ge=0, le=MAX_ID, description="Return rows with an id greater than this.")
]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Page size, 1 to 1000.")]
