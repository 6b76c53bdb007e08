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

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, select, update

from labelvault.storage.tables import assignments, items

#: How many partly-labelled items to look at before falling back to fresh ones.
PARTIAL_WINDOW = 64

# The hot paths run these statements thousands of times a second: they are built once
# here, with bound parameters, instead of on every call.
_a, _i = assignments.c, items.c
_ITEM_COLUMNS = (_i.id, _i.external_id, _i.payload, _i.created_at)
_NOT_SEEN = ~exists().where(and_(_a.item_id == _i.id, _a.annotator_id == bindparam("annotator")))

_EXPIRE = (
    update(assignments)
    .where(
        _a.project_id == bindparam("project"),
        _a.status == "leased",
        _a.lease_expires_at < bindparam("now"),
    )
    .values(status="expired")
    .returning(_a.item_id)
)
_FREE_SLOT = update(items).where(_i.id == bindparam("b_id")).values(slots_used=_i.slots_used - 1)
_TAKE_SLOT = update(items).where(_i.id == bindparam("b_id")).values(slots_used=_i.slots_used + 1)
_RETAKE_SLOT = (
    update(items)
    .where(_i.id == bindparam("b_id"), _i.slots_used < bindparam("overlap"))
    .values(slots_used=_i.slots_used + 1)
)
_PARTIAL = (
    select(_i.id)
    .where(
        _i.project_id == bindparam("project"),
        _i.slots_used > 0,
        _i.slots_used < bindparam("overlap"),
    )
    .order_by(_i.slots_used.desc(), _i.id)
    .limit(PARTIAL_WINDOW)
)
_MINE_AMONG = select(_a.item_id).where(
    _a.annotator_id == bindparam("annotator"),
    _a.item_id.in_(bindparam("ids", expanding=True)),
)
_LOCK_IF_OPEN = (
    select(*_ITEM_COLUMNS)
    .where(_i.id == bindparam("item"), _i.slots_used < bindparam("overlap"))
    .with_for_update(skip_locked=True)
)
# `slots_used < 1` rather than `= 0`, with the queue index's own order: with an equality the
# planner may walk the primary key instead (statistics say almost every item is fresh, but
# the taken ones all sit at the front), which costs a step per answered item.
_FRESH = (
    select(*_ITEM_COLUMNS)
    .where(
        _i.project_id == bindparam("project"),
        _i.slots_used < 1,
        _i.id.not_in(bindparam("passed", expanding=True)),
    )
    .order_by(_i.slots_used.desc(), _i.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)
_SEEN_ONE = select(_a.id).where(
    _a.item_id == bindparam("item"), _a.annotator_id == bindparam("annotator")
)
#: Fresh items an annotator already saw (their lease expired, or they skipped it) that
#: `next` steps over before switching to the slower anti-join query.
FRESH_TRIES = 4
_ANY_OPEN_UNSEEN = (
    select(*_ITEM_COLUMNS)
    .where(
        _i.project_id == bindparam("project"),
        _i.slots_used < bindparam("overlap"),
        _NOT_SEEN,
    )
    .order_by(_i.slots_used.desc(), _i.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)
_NEW_LEASE = insert(assignments).values(
    org_id=bindparam("org"),
    project_id=bindparam("project"),
    item_id=bindparam("item"),
    annotator_id=bindparam("annotator"),
    status="leased",
    leased_at=bindparam("now"),
    lease_expires_at=bindparam("expires"),
)
_ACTIVE_LEASE = (
    select(_a.id, _a.item_id, _a.lease_expires_at)
    .where(
        _a.annotator_id == bindparam("annotator"),
        _a.project_id == bindparam("project"),
        _a.status == "leased",
        _a.lease_expires_at >= bindparam("now"),
    )
    .order_by(_a.id)
    .limit(1)
)
_GET = select(assignments).where(_a.org_id == bindparam("org"), _a.id == bindparam("id"))
_GET_LOCKED = _GET.with_for_update()
_SET_LEASE = (
    update(assignments)
    .where(_a.id == bindparam("b_id"))
    .values(status="leased", lease_expires_at=bindparam("expires"))
)
_SUBMIT = (
    update(assignments)
    .where(_a.id == bindparam("b_id"))
    .values(
        status="submitted",
        answer=bindparam("answer"),
        schema_version=bindparam("version"),
        idempotency_key=bindparam("key"),
        submitted_at=bindparam("now"),
    )
)
_SKIP = (
    update(assignments)
    .where(_a.id == bindparam("b_id"))
    .values(
        status="skipped",
        skip_reason=bindparam("reason"),
        idempotency_key=bindparam("key"),
        submitted_at=bindparam("now"),
    )
)
_HELD_OR_ANSWERED = select(_a.id).where(
    _a.item_id == bindparam("item"),
    _a.annotator_id == bindparam("annotator"),
    _a.status.in_(("leased", "submitted", "skipped")),
)
_SUBMITTED = (
    select(_a.id, _a.item_id, _a.annotator_id, _a.answer, _a.schema_version)
    .where(_a.project_id == bindparam("project"), _a.status == "submitted")
    .order_by(_a.id)
)


def _one(conn: Connection, stmt: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    row = conn.execute(stmt, params).mappings().first()
    return dict(row) if row else None


def reclaim_expired(conn: Connection, project_id: int, now: int) -> int:
    """Return expired leases' slots to the queue; the late submit path may take them back."""
    expired = conn.execute(_EXPIRE, {"project": project_id, "now": now}).all()
    if expired:
        conn.execute(_FREE_SLOT, [{"b_id": row[0]} for row in expired])
    return len(expired)


def pick_item(
    conn: Connection, project_id: int, annotator_id: int, overlap: int
) -> dict[str, Any] | None:
    """Choose and lock the next item for an annotator, or None when there is no work.

    Partly labelled items come first (so items complete rather than all sitting at one
    label), looking at a bounded window so an annotator who works ahead of the others never
    scans their own backlog; then fresh items in id order; then, only when there is no
    fresh item, any open item this annotator has not seen.
    """
    params = {"project": project_id, "annotator": annotator_id, "overlap": overlap}
    if overlap > 1:
        candidates = list(conn.execute(_PARTIAL, params).scalars())
        if candidates:
            mine = set(
                conn.execute(_MINE_AMONG, {"annotator": annotator_id, "ids": candidates}).scalars()
            )
            for item_id in candidates:
                if item_id in mine:
                    continue
                row = _one(conn, _LOCK_IF_OPEN, {"item": item_id, "overlap": overlap})
                if row:
                    return row
    passed: list[int] = []
    for _ in range(FRESH_TRIES):
        row = _one(conn, _FRESH, {"project": project_id, "passed": passed})
        if row is None:
            break
        if conn.execute(_SEEN_ONE, {"item": row["id"], "annotator": annotator_id}).first() is None:
            return row
        passed.append(row["id"])
    # Slow path, only when there is no fresh item or the first ones were all seen: any open
    # item this annotator has not seen (beyond the window, or fresh but further down).
    return _one(conn, _ANY_OPEN_UNSEEN, params)


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
    conn.execute(_TAKE_SLOT, {"b_id": item_id})
    result = conn.execute(
        _NEW_LEASE,
        {
            "org": org_id,
            "project": project_id,
            "item": item_id,
            "annotator": annotator_id,
            "now": now,
            "expires": expires_at,
        },
    )
    return int(result.inserted_primary_key[0])


def active_lease(
    conn: Connection, project_id: int, annotator_id: int, now: int
) -> dict[str, Any] | None:
    """The annotator's live lease in this project, if any (re-offered instead of a new one)."""
    return _one(conn, _ACTIVE_LEASE, {"annotator": annotator_id, "project": project_id, "now": now})


def get_assignment(
    conn: Connection, org_id: int, assignment_id: int, *, lock: bool = False
) -> dict[str, Any] | None:
    return _one(conn, _GET_LOCKED if lock else _GET, {"org": org_id, "id": assignment_id})


def retake_slot(conn: Connection, item_id: int, overlap: int) -> bool:
    """Give an expired assignment its slot back if the item still has a free one."""
    return conn.execute(_RETAKE_SLOT, {"b_id": item_id, "overlap": overlap}).rowcount == 1


def release_slot(conn: Connection, item_id: int) -> None:
    conn.execute(_FREE_SLOT, {"b_id": item_id})


def set_lease(conn: Connection, assignment_id: int, expires_at: int) -> None:
    conn.execute(_SET_LEASE, {"b_id": assignment_id, "expires": expires_at})


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
        _SUBMIT,
        {
            "b_id": assignment_id,
            "answer": answer,
            "version": schema_version,
            "key": idempotency_key,
            "now": now,
        },
    )


def record_skip(
    conn: Connection, assignment_id: int, *, reason: bytes, idempotency_key: str | None, now: int
) -> None:
    conn.execute(
        _SKIP, {"b_id": assignment_id, "reason": reason, "key": idempotency_key, "now": now}
    )


def answered_or_held(conn: Connection, item_id: int, annotator_id: int) -> bool:
    """Whether an annotator may read an item: they hold it or have answered it."""
    row = conn.execute(_HELD_OR_ANSWERED, {"item": item_id, "annotator": annotator_id}).first()
    return row is not None


def submitted_answers(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """Every submitted answer of a project (for quality computations)."""
    return [dict(r) for r in conn.execute(_SUBMITTED, {"project": project_id}).mappings()]


_FINGERPRINT = select(
    func.count(), func.coalesce(func.max(_a.submitted_at), 0), func.coalesce(func.max(_a.id), 0)
).where(_a.project_id == bindparam("project"), _a.status == "submitted")


def answers_fingerprint(conn: Connection, project_id: int) -> tuple[int, int, int]:
    """(count, latest submit time, highest id) of submitted answers: changes with any answer."""
    n, latest, top = conn.execute(_FINGERPRINT, {"project": project_id}).one()
    return int(n), int(latest), int(top)
