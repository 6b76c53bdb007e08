"""How one stored answer is turned back into what the item view shows.

Exports decrypt whole pages of answers at once instead (services/export.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from labelvault.crypto import DataKey, aad


def decode_annotation(key: DataKey, project_id: int, row: dict[str, Any]) -> dict[str, Any]:
    values = None
    reason = None
    if row.get("answer") is not None:
        values = orjson.loads(
            key.decrypt(bytes(row["answer"]), aad(project_id, row["id"], "answer"))
        )
    if row.get("skip_reason") is not None:
        reason = key.decrypt(
            bytes(row["skip_reason"]), aad(project_id, row["id"], "skip_reason")
        ).decode()
    return {
        "assignment_id": row["id"],
        "annotator": row["annotator"],
        "status": row["status"],
        "values": values,
        "skip_reason": reason,
        "submitted_at": row["submitted_at"],
        "schema_version": row["schema_version"],
    }
