"""The annotator's loop: next -> (renew) -> submit or skip.

Each call is one write transaction, including its audit entry. See storage.queue for how
the database keeps "at most `overlap` annotators per item" and "never the same item twice"
true under concurrency.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson

from labelvault.crypto import aad
from labelvault.domain.roles import Permission
from labelvault.errors import Conflict, InvalidInput, NotFound
from labelvault.services import audit
from labelvault.services.access import authorize_project
from labelvault.services.context import Platform, Principal
from labelvault.services.items import decode_item
from labelvault.services.projects import schema_of
from labelvault.storage import items as item_store
from labelvault.storage import queue as store
from labelvault.storage.database import now_ms

#: Expired leases are swept at most this often per project and process.
RECLAIM_EVERY_S = 1.0
_last_reclaim: dict[int, float] = {}
_reclaim_lock = threading.Lock()


def _maybe_reclaim(conn: Any, project_id: int, now: int) -> None:
    mono = time.monotonic()
    with _reclaim_lock:
        if mono - _last_reclaim.get(project_id, 0.0) < RECLAIM_EVERY_S:
            return
        _last_reclaim[project_id] = mono
    store.reclaim_expired(conn, project_id, now)


def _task(
    platform: Platform,
    conn: Any,
    project_id: int,
    assignment_id: int,
    item_row: dict[str, Any],
    expires_at: int,
) -> dict[str, Any]:
    return {
        "assignment_id": assignment_id,
        "item": decode_item(platform, conn, project_id, item_row),
        "lease_expires_at": expires_at,
    }


def next_task(platform: Platform, who: Principal, project_id: int) -> dict[str, Any] | None:
    """Lease the next item to this annotator, or None when there is no work for them.

    An annotator who already holds a live lease in the project gets that one again, so a
    reloaded page or a retried request never strands a slot.
    """
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.QUEUE_WORK)
        project = access.project
        now = now_ms()
        _maybe_reclaim(conn, project_id, now)
        held = store.active_lease(conn, project_id, who.user_id, now)
        if held is not None:
            row = item_store.get_item(conn, who.org_id, project_id, held["item_id"])
            assert row is not None
            audit.record_as(
                conn,
                who,
                "item.read",
                f"project:{project_id}/item:{row['id']}",
                {"assignment": held["id"], "again": True},
            )
            return _task(platform, conn, project_id, held["id"], row, held["lease_expires_at"])
        row = store.pick_item(conn, project_id, who.user_id, int(project["overlap"]))
        if row is None:
            return None
        expires = now + int(project["lease_seconds"]) * 1000
        assignment_id = store.lease(
            conn,
            org_id=who.org_id,
            project_id=project_id,
            item_id=row["id"],
            annotator_id=who.user_id,
            now=now,
            expires_at=expires,
        )
        audit.record_as(
            conn,
            who,
            "item.read",
            f"project:{project_id}/item:{row['id']}",
            {"assignment": assignment_id},
        )
        return _task(platform, conn, project_id, assignment_id, row, expires)


def _own_assignment(conn: Any, who: Principal, assignment_id: int) -> dict[str, Any]:
    row = store.get_assignment(conn, who.org_id, assignment_id, lock=True)
    if row is None or row["annotator_id"] != who.user_id:
        raise NotFound(
            f"assignment {assignment_id} was not found",
            hint="assignments come from GET /api/v1/projects/{id}/next and belong "
            "to the annotator who received them",
        )
    return row


def _slot_lost(assignment_id: int) -> Conflict:
    return Conflict(
        f"the lease on assignment {assignment_id} expired and another annotator took the slot",
        hint="your answer was not stored; call GET /projects/{id}/next for a new task",
    )


def _reclaim_slot_if_expired(conn: Any, row: dict[str, Any], overlap: int) -> None:
    if row["status"] == "expired" and not store.retake_slot(conn, row["item_id"], overlap):
        raise _slot_lost(row["id"])


def _result(row: dict[str, Any], status: str, at: int, replayed: bool) -> dict[str, Any]:
    return {
        "assignment_id": row["id"],
        "item_id": row["item_id"],
        "status": status,
        "submitted_at": at,
        "replayed": replayed,
    }


def _check_key(key: str | None) -> str | None:
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidInput(
            "Idempotency-Key must be 1 to 200 characters",
            hint="send a UUID, e.g. Idempotency-Key: 5f0c...",
        )
    return key


def _answer_bytes(values: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(values)
    except TypeError:
        raise InvalidInput(
            "the answer contains text that is not valid Unicode (a lone surrogate)",
            hint="send the answer as valid UTF-8 text",
        ) from None


def submit(
    platform: Platform,
    who: Principal,
    assignment_id: int,
    values: Any,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Store an answer. A retry with the same Idempotency-Key returns the first result."""
    key = _check_key(idempotency_key)
    with platform.db.write() as conn:
        row = _own_assignment(conn, who, assignment_id)
        access = authorize_project(conn, who, row["project_id"], Permission.QUEUE_WORK)
        project_id = access.id
        if row["status"] in ("submitted", "skipped"):
            if key is not None and key == row["idempotency_key"]:
                return _result(row, row["status"], row["submitted_at"], True)
            raise Conflict(
                f"assignment {assignment_id} was already {row['status']}",
                hint="each assignment takes one answer; to retry safely, resend "
                "with the same Idempotency-Key",
            )
        schema = schema_of(access.project)
        item: dict[str, Any] = {}
        if any(getattr(f, "source", None) for f in schema.fields):
            item_row = item_store.get_item(conn, who.org_id, project_id, row["item_id"])
            assert item_row is not None
            item = decode_item(platform, conn, project_id, item_row)["data"]
        normalized = schema.validate_answer(values, item)
        _reclaim_slot_if_expired(conn, row, int(access.project["overlap"]))
        now = now_ms()
        dek = platform.data_key(conn, project_id)
        blob = dek.encrypt(_answer_bytes(normalized), aad(project_id, assignment_id, "answer"))
        store.record_submit(
            conn,
            assignment_id,
            answer=blob,
            schema_version=int(access.project["schema_version"]),
            idempotency_key=key,
            now=now,
        )
        audit.record_as(
            conn,
            who,
            "answer.submit",
            f"project:{project_id}/item:{row['item_id']}",
            {"assignment": assignment_id},
        )
    return _result(row, "submitted", now, False)


def skip(
    platform: Platform,
    who: Principal,
    assignment_id: int,
    reason: Any,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Give an item back with a reason; it goes to another annotator, never back to you."""
    key = _check_key(idempotency_key)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise InvalidInput(
            "a skip needs a reason of 1 to 2000 characters",
            hint='e.g. {"reason": "not in my language"}',
            errors=[{"field": "reason", "message": "missing or too long"}],
        )
    with platform.db.write() as conn:
        row = _own_assignment(conn, who, assignment_id)
        access = authorize_project(conn, who, row["project_id"], Permission.QUEUE_WORK)
        if row["status"] in ("submitted", "skipped"):
            if key is not None and key == row["idempotency_key"]:
                return _result(row, row["status"], row["submitted_at"], True)
            raise Conflict(
                f"assignment {assignment_id} was already {row['status']}",
                hint="nothing to skip; call next for a new task",
            )
        if row["status"] == "leased":
            store.release_slot(conn, row["item_id"])
        now = now_ms()
        dek = platform.data_key(conn, access.id)
        blob = dek.encrypt(reason.encode(), aad(access.id, assignment_id, "skip_reason"))
        store.record_skip(conn, assignment_id, reason=blob, idempotency_key=key, now=now)
        audit.record_as(
            conn,
            who,
            "answer.skip",
            f"project:{access.id}/item:{row['item_id']}",
            {"assignment": assignment_id},
        )
    return _result(row, "skipped", now, False)


def renew(platform: Platform, who: Principal, assignment_id: int) -> dict[str, Any]:
    """Extend a lease by the project's lease time (also revives a just-expired one)."""
    with platform.db.write() as conn:
        row = _own_assignment(conn, who, assignment_id)
        access = authorize_project(conn, who, row["project_id"], Permission.QUEUE_WORK)
        if row["status"] not in ("leased", "expired"):
            raise Conflict(
                f"assignment {assignment_id} is {row['status']}; nothing to renew",
                hint="call next for a new task",
            )
        _reclaim_slot_if_expired(conn, row, int(access.project["overlap"]))
        expires = now_ms() + int(access.project["lease_seconds"]) * 1000
        store.set_lease(conn, assignment_id, expires)
    return {"assignment_id": assignment_id, "lease_expires_at": expires}
