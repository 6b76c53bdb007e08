"""Importing and reading items.

An import is one transaction: with on_error="abort" a single bad row leaves nothing
behind; with "skip" the good rows land and the bad ones are reported by line number.
Rows stream through in batches (parse, encrypt, insert), so memory stays flat however
large the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from labelvault.crypto import aad, aad_many
from labelvault.domain.roles import Permission, ProjectRole
from labelvault.errors import BadRequest, Forbidden, InvalidInput, NotFound
from labelvault.formats import ParsedItem, RowError, read_items
from labelvault.services import audit
from labelvault.services.access import authorize_project
from labelvault.services.context import Platform, Principal
from labelvault.services.projects import schema_of
from labelvault.storage import items as store
from labelvault.storage import queue as queue_store
from labelvault.storage.database import now_ms

MAX_LISTED_ERRORS = 100
#: Imports at least this large refresh the planner statistics afterwards.
ANALYZE_AFTER_ROWS = 10_000
ON_ERROR = ("abort", "skip")
ON_DUPLICATE = ("skip", "update")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped_duplicates: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add_error(self, line: int, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append({"line": line, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped_duplicates": self.skipped_duplicates,
            "failed": self.failed,
            "errors": self.errors,
        }


class ImportAborted(InvalidInput):
    """Raised with on_error=abort: the transaction is rolled back, nothing was stored."""


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadRequest(
            f"{name}={value!r} is not supported", hint=f"use {name}={' or '.join(allowed)}"
        )
    return value


def check_import_access(platform: Platform, who: Principal, project_id: int) -> None:
    """Refuse an import before its body is uploaded (the import re-checks in its transaction)."""
    with platform.db.read() as conn:
        authorize_project(conn, who, project_id, Permission.ITEMS_IMPORT)


def import_items(
    platform: Platform,
    who: Principal,
    project_id: int,
    stream: BinaryIO,
    fmt: str,
    *,
    on_error: str = "abort",
    on_duplicate: str = "skip",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Stream items from a file-like object into a project."""
    _check_choice("on_error", on_error, ON_ERROR)
    _check_choice("on_duplicate", on_duplicate, ON_DUPLICATE)
    result = ImportResult()
    batch_size = platform.settings.import_batch_size
    max_bytes = platform.settings.max_item_bytes
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.ITEMS_IMPORT)
        schema = schema_of(access.project)
        sources = sorted({s for f in schema.fields if (s := getattr(f, "source", None))})
        key = platform.data_key(conn, project_id)
        writer = _BatchWriter(conn, key, who.org_id, project_id, on_duplicate, result)
        batch: list[tuple[int, str | None, bytes]] = []
        aborting = False
        for row in read_items(stream, fmt, max_row_bytes=max_bytes):
            if isinstance(row, RowError):
                result.add_error(row.line, row.message)
                aborting = aborting or on_error == "abort"
                continue
            problem = _row_problem(row, sources)
            if problem:
                result.add_error(row.line, problem)
                aborting = aborting or on_error == "abort"
                continue
            if aborting:
                continue  # keep reading only to report every bad row at once
            batch.append((row.line, row.external_id, orjson.dumps(row.payload)))
            if len(batch) >= batch_size:
                writer.write(batch)
                batch = []
                if progress:
                    progress(result.created + result.updated + result.skipped_duplicates)
        if aborting:
            raise ImportAborted(
                f"import aborted: {result.failed} bad row(s), nothing was stored",
                hint="fix the rows listed in errors, or re-run with on_error=skip to store "
                "the good rows and report the bad ones",
                errors=result.errors,
            )
        writer.write(batch)
        if progress:
            progress(result.created + result.updated + result.skipped_duplicates)
        audit.record_as(
            conn,
            who,
            "items.import",
            f"project:{project_id}",
            {k: v for k, v in result.as_dict().items() if k != "errors"},
        )
    if result.created + result.updated >= ANALYZE_AFTER_ROWS:
        with platform.db.write() as conn:
            store.refresh_statistics(conn)
    return result.as_dict()


def _row_problem(row: ParsedItem, sources: list[str]) -> str | None:
    for source in sources:
        if source not in row.payload:
            return (
                f"line {row.line}: the item has no {source!r} key, which the project's "
                f"schema annotates"
            )
    return None


class _BatchWriter:
    """Dedupes external ids, allocates row ids, encrypts and inserts one batch at a time."""

    def __init__(
        self,
        conn: Any,
        key: Any,
        org_id: int,
        project_id: int,
        on_duplicate: str,
        result: ImportResult,
    ) -> None:
        self.conn, self.key, self.org_id, self.project_id = conn, key, org_id, project_id
        self.on_duplicate, self.result = on_duplicate, result

    def write(self, batch: list[tuple[int, str | None, bytes]]) -> None:
        if not batch:
            return
        ext_ids = [e for _, e, _ in batch if e is not None]
        existing = store.existing_external_ids(self.conn, self.project_id, ext_ids)
        fresh: list[tuple[str | None, bytes]] = []
        updates: dict[int, bytes] = {}
        seen_in_batch: dict[str, int] = {}
        for _line, ext, payload in batch:
            if ext is not None and ext in seen_in_batch:
                # The same id twice in one file: the later row wins under "update".
                if self.on_duplicate == "update":
                    fresh[seen_in_batch[ext]] = (ext, payload)
                    self.result.updated += 1
                else:
                    self.result.skipped_duplicates += 1
                continue
            if ext is not None and ext in existing:
                if self.on_duplicate == "update":
                    updates[existing[ext]] = payload
                    self.result.updated += 1
                else:
                    self.result.skipped_duplicates += 1
                continue
            if ext is not None:
                seen_in_batch[ext] = len(fresh)
            fresh.append((ext, payload))
        if fresh:
            ids = store.allocate_item_ids(self.conn, len(fresh))
            blobs = self.key.encrypt_many(
                [p for _, p in fresh], aad_many(self.project_id, ids, "payload")
            )
            now = now_ms()
            store.insert_items(
                self.conn,
                [
                    (i, self.org_id, self.project_id, ext, blob, now)
                    for i, (ext, _), blob in zip(ids, fresh, blobs, strict=True)
                ],
            )
            self.result.created += len(fresh)
        if updates:
            ids = list(updates)
            blobs = self.key.encrypt_many(
                [updates[i] for i in ids], aad_many(self.project_id, ids, "payload")
            )
            store.update_payloads(
                self.conn, [{"b_id": i, "b_payload": b} for i, b in zip(ids, blobs, strict=True)]
            )


def decode_item(
    platform: Platform, conn: Any, project_id: int, row: dict[str, Any]
) -> dict[str, Any]:
    """An item row as the API shows it, payload decrypted."""
    key = platform.data_key(conn, project_id)
    data = orjson.loads(key.decrypt(bytes(row["payload"]), aad(project_id, row["id"], "payload")))
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "data": data,
        "created_at": row["created_at"],
    }


def list_items(
    platform: Platform, who: Principal, project_id: int, *, limit: int = 100, after: int = 0
) -> dict[str, Any]:
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be from 1 to 1000", hint="page with ?after=next_after")
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.PROJECT_READ)
        if not access.can(Permission.ITEMS_LIST):
            raise Forbidden(
                "annotators cannot list items; they receive work through the queue",
                hint="call GET /api/v1/projects/{id}/next for your next task",
            )
        rows = store.list_items(conn, who.org_id, project_id, after=after, limit=limit)
        out = [decode_item(platform, conn, project_id, r) for r in rows]
        audit.record_as(
            conn, who, "items.read", f"project:{project_id}", {"count": len(out), "after": after}
        )
    return {"items": out, "next_after": out[-1]["id"] if len(out) == limit else None}


def get_item(platform: Platform, who: Principal, project_id: int, item_id: int) -> dict[str, Any]:
    """One item with its answers; annotators only see items they hold or answered,
    and only their own answers."""
    from labelvault.services.annotations import decode_annotation

    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.PROJECT_READ)
        row = store.get_item(conn, who.org_id, project_id, item_id)
        is_annotator = access.role == ProjectRole.ANNOTATOR and not who.is_org_admin
        if row is None or (
            is_annotator and not queue_store.answered_or_held(conn, item_id, who.user_id)
        ):
            raise NotFound(
                f"item {item_id} was not found in project {project_id}",
                hint="annotators see only items they were assigned",
            )
        item = decode_item(platform, conn, project_id, row)
        answers = store.annotations_for_items(conn, project_id, [item_id])
        if is_annotator:
            answers = [a for a in answers if a["annotator_id"] == who.user_id]
        key = platform.data_key(conn, project_id)
        item["annotations"] = [decode_annotation(key, project_id, a) for a in answers]
        audit.record_as(conn, who, "item.read", f"project:{project_id}/item:{item_id}")
    return item
