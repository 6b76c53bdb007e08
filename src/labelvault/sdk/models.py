"""Typed results the SDK returns where a plain dict would hide meaning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Task:
    """One unit of work handed out by the queue: answer it before the lease expires."""

    assignment_id: str
    item: dict[str, Any]
    lease_expires_at: datetime

    @property
    def data(self) -> Any:
        """The item's payload (what the annotator looks at)."""
        return self.item.get("data")
