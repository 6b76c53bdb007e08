"""Streaming exports of items with all their answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from labelvault.crypto import aad
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
    with platform.db.read() as conn:
        key = platform.data_key(conn, project_id)
        decrypt = key.decrypt
        emails = {u["id"]: u["email"] for u in account_store.list_users(conn, org_id)}
        for item, answers in item_store.iter_items_with_annotations(conn, org_id, project_id):
            annotations = []
            for a in answers:
                values = reason = None
                if a.answer is not None:
                    values = orjson.loads(decrypt(a.answer, aad(project_id, a.id, "answer")))
                if a.skip_reason is not None:
                    reason = decrypt(a.skip_reason, aad(project_id, a.id, "skip_reason")).decode()
                annotations.append(
                    {
                        "annotator": emails.get(a.annotator_id, str(a.annotator_id)),
                        "status": a.status,
                        "values": values,
                        "skip_reason": reason,
                        "submitted_at": a.submitted_at,
                        "schema_version": a.schema_version,
                    }
                )
            record = {
                "id": item.id,
                "external_id": item.external_id,
                "data": orjson.loads(decrypt(item.payload, aad(project_id, item.id, "payload"))),
                "annotations": annotations,
            }
            if consensus is not None:
                record["consensus"] = consensus.get(item.id, {})
            yield record
