"""Reading the audit log (org owners and admins)."""

from __future__ import annotations

from typing import Any

import orjson

from labelvault.errors import InvalidInput
from labelvault.services.access import require_org_admin
from labelvault.services.context import Platform, Principal
from labelvault.storage import audit as store


def list_entries(
    platform: Platform, who: Principal, *, after_id: int, limit: int
) -> dict[str, Any]:
    require_org_admin(who)
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be from 1 to 1000", hint="page with ?after_id=next_after")
    with platform.db.read() as conn:
        rows = store.list_entries(conn, who.org_id, after_id=after_id, limit=limit)
    entries = [
        {
            "id": r["id"],
            "chain": r["shard"],
            "seq": r["seq"],
            "at": r["at"],
            "actor_id": r["actor_id"],
            "action": r["action"],
            "target": r["target"],
            "detail": orjson.loads(r["detail"]),
            "hash": bytes(r["hash"]).hex(),
        }
        for r in rows
    ]
    return {"entries": entries, "next_after": entries[-1]["id"] if len(entries) == limit else None}
