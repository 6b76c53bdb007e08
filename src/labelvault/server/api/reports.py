"""Export, quality, leaderboard and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from labelvault.server.api.params import AfterQuery, IdPath, LimitQuery
from labelvault.server.deps import PlatformDep, PrincipalDep, json_response
from labelvault.services import audit_view, export

router = APIRouter(tags=["reports"])


@router.get("/projects/{project_id}/export", response_class=StreamingResponse)
def export_project(
    project_id: IdPath,
    platform: PlatformDep,
    who: PrincipalDep,
    format: str = Query("jsonl", description="jsonl, csv or parquet"),
    consensus: bool = Query(False, description="add each item's consensus and confidence"),
) -> StreamingResponse:
    stream = export.export(platform, who, project_id, format, with_consensus=consensus)
    return StreamingResponse(
        stream.chunks,
        media_type=stream.media_type,
        headers={"Content-Disposition": f'attachment; filename="{stream.filename}"'},
    )


@router.get("/projects/{project_id}/quality")
def project_quality(
    project_id: IdPath,
    platform: PlatformDep,
    who: PrincipalDep,
    method: str = Query("auto", description="auto, mv, wawa, ds, one_coin_ds, glad or mace"),
) -> Any:
    """The quality report; 202 with progress while a large project is being computed."""
    from labelvault.services import quality  # NumPy/SciPy load on first use, not at startup

    report = quality.project_quality(platform, who, project_id, method=method)
    return json_response(report, 202 if report["status"] == "running" else 200)


@router.get("/projects/{project_id}/leaderboard")
def project_leaderboard(
    project_id: IdPath, platform: PlatformDep, who: PrincipalDep
) -> dict[str, Any]:
    from labelvault.services import quality

    return quality.leaderboard(platform, who, project_id)


@router.get("/audit")
def audit_log(
    platform: PlatformDep, who: PrincipalDep, after_id: AfterQuery = 0, limit: LimitQuery = 100
) -> dict[str, Any]:
    return audit_view.list_entries(platform, who, after_id=after_id, limit=limit)
