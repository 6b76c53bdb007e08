"""Streaming exports of items with all their answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from labelvault.crypto import DataKey, aad_many
from labelvault.domain.roles import Permission
from labelvault.formats import FILE_EXTENSIONS, MEDIA_TYPES, check_export_format, iter_export
from labelvault.services import audit
from labelvault.services.access import authorize_project
from labelvault.services.context import Platform, Principal
from labelvault.storage import accounts as account_store
from labelvault.storage import items as item_store


@dataclass(frozen=True)
class ExportStream:
    media_type: str
    filename: str
    chunks: Iterator[bytes]


def export(
    platform: Platform,
    who: Principal,
    project_id: int,
    fmt: str,
    *,
    with_consensus: bool = False,
) -> ExportStream:
    """Authorize and audit now; stream later from one consistent read snapshot.

    With `with_consensus`, each record gets {field: {"label", "confidence"}} from the
    project's quality report (cached until a new answer arrives).
    """
    check_export_format(fmt)
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.EXPORT)
        detail = {"format": fmt, "consensus": with_consensus}
        audit.record_as(conn, who, "project.export", f"project:{project_id}", detail)
        platform.data_key(conn, project_id)
    consensus = None
    if with_consensus:
        from labelvault.services.quality import consensus_for_export

        consensus = consensus_for_export(platform, who.org_id, project_id)
    records = _records(platform, who.org_id, project_id, consensus)
    filename = _safe_filename(f"{access.project['name']}-{project_id}{FILE_EXTENSIONS[fmt]}")
    chunks = iter_export(records, fmt, with_consensus=with_consensus)
    return ExportStream(MEDIA_TYPES[fmt], filename, chunks)


def _safe_filename(name: str) -> str:
    """A Content-Disposition filename that cannot break the header."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:200]


def _records(
    platform: Platform,
    org_id: int,
    project_id: int,
    consensus: dict[int, dict[str, Any]] | None = None,
) -> Iterator[dict[str, Any]]:
    """Export records, decrypted a page at a time."""
    with platform.db.read() as conn:
        key = platform.data_key(conn, project_id)
        emails = {u["id"]: u["email"] for u in account_store.list_users(conn, org_id)}
        loads = orjson.loads
        for batch, answers in item_store.iter_export_pages(conn, org_id, project_id):
            payloads = key.decrypt_many(
                [row[2] for row in batch],
                aad_many(project_id, [row[0] for row in batch], "payload"),
            )
            by_item: dict[int, list[dict[str, Any]]] = {}
            values = _decrypt_column(key, project_id, answers, 6, "answer")
            reasons = _decrypt_column(key, project_id, answers, 7, "skip_reason")
            for a, value, reason in zip(answers, values, reasons, strict=True):
                by_item.setdefault(a[1], []).append(
                    {
                        "annotator": emails.get(a[2], str(a[2])),
                        "status": a[3],
                        "values": loads(value) if value is not None else None,
                        "skip_reason": reason.decode() if reason is not None else None,
                        "submitted_at": a[4],
                        "schema_version": a[5],
                    }
                )
            for (item_id, external_id, _), payload in zip(batch, payloads, strict=True):
                record = {
                    "id": item_id,
                    "external_id": external_id,
                    "data": loads(payload),
                    "annotations": by_item.get(item_id, []),
                }
                if consensus is not None:
                    record["consensus"] = consensus.get(item_id, {})
                yield record


def _decrypt_column(
    key: DataKey, project_id: int, rows: list[Any], index: int, column: str
) -> list[bytes | None]:
    """Decrypt one ciphertext column of many rows in one call; None stays None."""
    present = [row for row in rows if row[index] is not None]
    plain = key.decrypt_many(
        [bytes(row[index]) for row in present],
        aad_many(project_id, [row[0] for row in present], column),
    )
    found = dict(zip((row[0] for row in present), plain, strict=True))
    return [found.get(row[0]) for row in rows]
