"""The audit log's rows and chain heads. Hashing lives in labelvault.crypto.audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, union, update

from labelvault.storage.tables import audit_chains, audit_log, orgs

#: Chains per org: appends from different shards never wait on one another's row lock.
AUDIT_SHARDS = 8
GENESIS = b"\x00" * 32


def create_chains(conn: Connection, org_id: int) -> None:
    conn.execute(
        insert(audit_chains),
        [{"org_id": org_id, "shard": s, "seq": 0, "head": GENESIS} for s in range(AUDIT_SHARDS)],
    )


_LOCK_HEAD = (
    select(audit_chains.c.seq, audit_chains.c.head)
    .where(audit_chains.c.org_id == bindparam("org"), audit_chains.c.shard == bindparam("shard"))
    .with_for_update()
)
_INSERT = insert(audit_log)
_MOVE_HEAD = (
    update(audit_chains)
    .where(
        audit_chains.c.org_id == bindparam("b_org"), audit_chains.c.shard == bindparam("b_shard")
    )
    .values(seq=bindparam("b_seq"), head=bindparam("b_head"))
)


def lock_chain(conn: Connection, org_id: int, shard: int) -> tuple[int, bytes]:
    """Lock a chain head for this transaction; returns (last seq, last hash)."""
    row = conn.execute(_LOCK_HEAD, {"org": org_id, "shard": shard}).one()
    return int(row[0]), bytes(row[1])


def append(conn: Connection, row: dict[str, Any]) -> None:
    """Insert an entry and move its chain head; the caller computed row['hash']."""
    conn.execute(_INSERT, row)
    conn.execute(
        _MOVE_HEAD,
        {
            "b_org": row["org_id"],
            "b_shard": row["shard"],
            "b_seq": row["seq"],
            "b_head": row["hash"],
        },
    )


def org_ids(conn: Connection) -> list[int]:
    """Every org that has, or should have, an audit log."""
    stmt = union(select(orgs.c.id), select(audit_chains.c.org_id), select(audit_log.c.org_id))
    return sorted(int(o) for o in conn.execute(stmt).scalars())


def shards_in_log(conn: Connection, org_id: int) -> list[int]:
    stmt = select(audit_log.c.shard).where(audit_log.c.org_id == org_id).distinct()
    return [int(s) for s in conn.execute(stmt).scalars()]


def chain_heads(conn: Connection, org_id: int) -> dict[int, tuple[int, bytes]]:
    rows = conn.execute(
        select(audit_chains.c.shard, audit_chains.c.seq, audit_chains.c.head).where(
            audit_chains.c.org_id == org_id
        )
    )
    return {int(s): (int(q), bytes(h)) for s, q, h in rows}


def iter_chain(conn: Connection, org_id: int, shard: int) -> Iterator[dict[str, Any]]:
    """Entries of one chain in the order they were written (by row id, not by seq)."""
    stmt = (
        select(audit_log)
        .where(audit_log.c.org_id == org_id, audit_log.c.shard == shard)
        .order_by(audit_log.c.id)
        .execution_options(yield_per=5000)
    )
    for row in conn.execute(stmt).mappings():
        yield dict(row)


def list_entries(
    conn: Connection, org_id: int, *, after_id: int, limit: int
) -> list[dict[str, Any]]:
    stmt = (
        select(audit_log)
        .where(audit_log.c.org_id == org_id, audit_log.c.id > after_id)
        .order_by(audit_log.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]
