"""The work queue: leases, submits and skips on the assignments table.

An assignment is one annotator's hold on one item; once submitted it *is* the annotation.
items.slots_used counts live leases plus submitted answers, so an item is offered while
slots_used < overlap. Correctness under concurrency:
- SQLite: every write runs under BEGIN IMMEDIATE, so queue transactions are serial.
- PostgreSQL: the chosen item row is locked with FOR UPDATE SKIP LOCKED, so concurrent
  annotators take different rows without waiting, and the slot check is redone on the
  locked row.
- Both: a unique (item_id, annotator_id) constraint makes "never the same item twice" a
  database fact, not a hope.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, insert, select, update

from labelvault.storage.tables import assignments, items

#: How many partly-labelled items to look at before falling back to fresh ones.
PARTIAL_WINDOW = 64


def reclaim_expired(conn: Connection, project_id: int, now: int) -> int:
    """Return expired leases' slots to the queue; the late submit path may take them back."""
    expired = conn.execute(
        update(assignments)
        .where(
            assignments.c.project_id == project_id,
            assignments.c.status == "leased",
            assignments.c.lease_expires_at < now,
        )
        .values(status="expired")
        .returning(assignments.c.item_id)
    ).all()
    if expired:
        conn.execute(
            update(items)
            .where(items.c.id == bindparam("b_id"))
            .values(slots_used=items.c.slots_used - 1),
            [{"b_id": row[0]} for row in expired],
        )
    return len(expired)


def _lock_if_open(conn: Connection, item_id: int, overlap: int) -> dict[str, Any] | None:
    stmt = (
        select(items.c.id, items.c.external_id, items.c.payload, items.c.created_at)
        .where(items.c.id == item_id, items.c.slots_used < overlap)
        .with_for_update(skip_locked=True)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def pick_item(
    conn: Connection, project_id: int, annotator_id: int, overlap: int
) -> dict[str, Any] | None:
    """Choose and lock the next item for an annotator, or None when there is no work.

    Partly labelled items come first (so items complete rather than all sitting at one
    label), looking at a bounded window so an annotator who works ahead of the others never
    scans their own backlog; then fresh items in id order.
    """
    if overlap > 1:
        partial = conn.execute(
            select(items.c.id)
            .where(
                items.c.project_id == project_id,
                items.c.slots_used > 0,
                items.c.slots_used < overlap,
            )
            .order_by(items.c.slots_used.desc(), items.c.id)
            .limit(PARTIAL_WINDOW)
        ).scalars()
        candidates = list(partial)
        if candidates:
            mine = set(
                conn.execute(
                    select(assignments.c.item_id).where(
                        assignments.c.annotator_id == annotator_id,
                        assignments.c.item_id.in_(bindparam("ids", expanding=True)),
                    ),
                    {"ids": candidates},
                ).scalars()
            )
            for item_id in candidates:
                if item_id not in mine and (row := _lock_if_open(conn, item_id, overlap)):
                    return row
    seen = exists().where(
        and_(assignments.c.item_id == items.c.id, assignments.c.annotator_id == annotator_id)
    )
    columns = (items.c.id, items.c.external_id, items.c.payload, items.c.created_at)
    fresh = (
        select(*columns)
        .where(items.c.project_id == project_id, items.c.slots_used == 0, ~seen)
        .order_by(items.c.slots_used.desc(), items.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = conn.execute(fresh).mappings().first()
    if row is None and overlap > 1:
        # Slow path, only when there is no fresh item: an open item beyond the window
        # that this annotator has not seen (they may have answered many of the others).
        rest = (
            select(*columns)
            .where(
                items.c.project_id == project_id,
                items.c.slots_used > 0,
                items.c.slots_used < overlap,
                ~seen,
            )
            .order_by(items.c.slots_used.desc(), items.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = conn.execute(rest).mappings().first()
    return dict(row) if row else None


def lease(
    conn: Connection,
    *,
    org_id: int,
    project_id: int,
    item_id: int,
    annotator_id: int,
    now: int,
    expires_at: int,
) -> int:
    """Take one slot of a locked item and record the lease; returns the assignment id."""
    conn.execute(
        update(items).where(items.c.id == item_id).values(slots_used=items.c.slots_used + 1)
    )
    result = conn.execute(
        insert(assignments).values(
            org_id=org_id,
            project_id=project_id,
            item_id=item_id,
            annotator_id=annotator_id,
            status="leased",
            leased_at=now,
            lease_expires_at=expires_at,
        )
    )
    return int(result.inserted_primary_key[0])


def active_lease(
    conn: Connection, project_id: int, annotator_id: int, now: int
) -> dict[str, Any] | None:
    """The annotator's live lease in this project, if any (re-offered instead of a new one)."""
    stmt = (
        select(assignments.c.id, assignments.c.item_id, assignments.c.lease_expires_at)
        .where(
            assignments.c.annotator_id == annotator_id,
            assignments.c.project_id == project_id,
            assignments.c.status == "leased",
            assignments.c.lease_expires_at >= now,
        )
        .order_by(assignments.c.id)
        .limit(1)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def get_assignment(
    conn: Connection, org_id: int, assignment_id: int, *, lock: bool = False
) -> dict[str, Any] | None:
    stmt = select(assignments).where(
        assignments.c.org_id == org_id, assignments.c.id == assignment_id
    )
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def retake_slot(conn: Connection, item_id: int, overlap: int) -> bool:
    """Give an expired assignment its slot back if the item still has a free one."""
    result = conn.execute(
        update(items)
        .where(items.c.id == item_id, items.c.slots_used < overlap)
        .values(slots_used=items.c.slots_used + 1)
    )
    return result.rowcount == 1


def release_slot(conn: Connection, item_id: int) -> None:
    conn.execute(
        update(items).where(items.c.id == item_id).values(slots_used=items.c.slots_used - 1)
    )


def set_lease(conn: Connection, assignment_id: int, expires_at: int) -> None:
    conn.execute(
        update(assignments)
        .where(assignments.c.id == assignment_id)
        .values(status="leased", lease_expires_at=expires_at)
    )


def record_submit(
    conn: Connection,
    assignment_id: int,
    *,
    answer: bytes,
    schema_version: int,
    idempotency_key: str | None,
    now: int,
) -> None:
    conn.execute(
        update(assignments)
        .where(assignments.c.id == assignment_id)
        .values(
            status="submitted",
            answer=answer,
            schema_version=schema_version,
            idempotency_key=idempotency_key,
            submitted_at=now,
        )
    )


def record_skip(
    conn: Connection, assignment_id: int, *, reason: bytes, idempotency_key: str | None, now: int
) -> None:
    conn.execute(
        update(assignments)
        .where(assignments.c.id == assignment_id)
        .values(
            status="skipped", skip_reason=reason, idempotency_key=idempotency_key, submitted_at=now
        )
    )


def answered_or_held(conn: Connection, item_id: int, annotator_id: int) -> bool:
    """Whether an annotator may read an item: they hold it or have answered it."""
    stmt = select(assignments.c.id).where(
        assignments.c.item_id == item_id,
        assignments.c.annotator_id == annotator_id,
        assignments.c.status.in_(("leased", "submitted", "skipped")),
    )
    return conn.execute(stmt).first() is not None


def submitted_answers(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """Every submitted answer of a project (for quality computations)."""
    stmt = select(
        assignments.c.id,
        assignments.c.item_id,
        assignments.c.annotator_id,
        assignments.c.answer,
        assignments.c.schema_version,
    ).where(assignments.c.project_id == project_id, assignments.c.status == "submitted")
    return [dict(r) for r in conn.execute(stmt).mappings()]
