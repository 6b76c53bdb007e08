"""Append to and verify the hash-chained audit log.

Appends happen inside the action's own transaction, so an action and its audit entry
commit or vanish together. Each org has several chains (shards, by actor) so concurrent
writers rarely wait on the same chain-head row lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from labelvault.crypto.audit import ChainBreak, chain_hash, verify_chain
from labelvault.services.context import Principal
from labelvault.storage import audit as audit_store
from labelvault.storage.database import Database, now_ms


def record(
    conn: Connection,
    org_id: int,
    actor_id: int | None,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry. `detail` holds ids and counts, never confidential content."""
    shard = (actor_id or 0) % audit_store.AUDIT_SHARDS
    seq, head = audit_store.lock_chain(conn, org_id, shard)
    entry = {
        "org_id": org_id,
        "shard": shard,
        "seq": seq + 1,
        "at": now_ms(),
        "actor_id": actor_id,
        "action": action,
        "target": target,
        "detail": orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode(),
    }
    audit_store.append(conn, {**entry, "hash": chain_hash(head, entry)})


def record_as(
    conn: Connection,
    who: Principal,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    record(conn, who.org_id, who.user_id, action, target, detail)


_ENTRY_KEYS = ("org_id", "shard", "seq", "at", "actor_id", "action", "target", "detail")


@dataclass(frozen=True)
class AuditProblem:
    org_id: int
    shard: int
    entry_id: Any
    reason: str

    def __str__(self) -> str:
        return (
            f"audit chain broken at entry id {self.entry_id} "
            f"(org {self.org_id}, chain {self.shard}): {self.reason}"
        )


def verify(db: Database) -> tuple[int, AuditProblem | None]:
    """Check every chain of every org; returns (entries checked, first problem or None).

    Orgs and chains are gathered from the orgs table, the chain heads and the log itself,
    so deleting chain heads (or a whole org's heads) cannot hide a tampered log.
    """
    checked = 0
    with db.read() as conn:
        for org_id in audit_store.org_ids(conn):
            heads = audit_store.chain_heads(conn, org_id)
            shards = set(range(audit_store.AUDIT_SHARDS)) | set(heads)
            shards |= set(audit_store.shards_in_log(conn, org_id))
            for shard in sorted(shards):
                last: list[tuple[Any, int, bytes]] = []

                def entries(
                    org_id: int = org_id,
                    shard: int = shard,
                    last: list[tuple[Any, int, bytes]] = last,
                ) -> Iterator[tuple[Any, dict[str, Any], bytes]]:
                    for row in audit_store.iter_chain(conn, org_id, shard):
                        last[:] = [(row["id"], int(row["seq"]), bytes(row["hash"]))]
                        yield row["id"], {k: row[k] for k in _ENTRY_KEYS}, bytes(row["hash"])

                counted = _Counter(entries())
                broken: ChainBreak | None = verify_chain(counted)
                checked += counted.n
                if broken is not None:
                    return checked, AuditProblem(org_id, shard, broken.entry_id, broken.reason)
                last_id, last_seq, last_hash = last[0] if last else (None, 0, audit_store.GENESIS)
                if shard not in heads:
                    return checked, AuditProblem(
                        org_id,
                        shard,
                        last_id,
                        "the chain head row is missing: it was deleted, so the end of this "
                        "chain cannot be checked",
                    )
                head_seq, head_hash = heads[shard]
                if (head_seq, head_hash) != (last_seq, last_hash):
                    return checked, AuditProblem(
                        org_id,
                        shard,
                        last_id,
                        f"the chain head says {head_seq} entries but the log ends at "
                        f"{last_seq}: entries after it were deleted",
                    )
    return checked, None


class _Counter:
    """Counts the entries an iterator yields, without holding them."""

    def __init__(self, source: Iterator[tuple[Any, dict[str, Any], bytes]]) -> None:
        self.source, self.n = source, 0

    def __iter__(self) -> Iterator[tuple[Any, dict[str, Any], bytes]]:
        for entry in self.source:
            self.n += 1
            yield entry
