"""Item import (streamed), listing and reading."""

from __future__ import annotations

import tempfile
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from labelvault.errors import BadRequest
from labelvault.formats import IMPORT_FORMATS, detect_format
from labelvault.server.api.params import AfterQuery, IdPath, LimitQuery
from labelvault.server.deps import PlatformDep, PrincipalDep
from labelvault.services import items

router = APIRouter(tags=["items"])

#: Uploads stay in memory up to this size, then spill to a temporary file.
SPOOL_IN_MEMORY = 8 * 1024 * 1024


@router.post(
    "/projects/{project_id}/items",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
async def import_items(
    project_id: IdPath,
    request: Request,
    platform: PlatformDep,
    who: PrincipalDep,
    on_error: str = Query(
        "abort",
        description="abort (default): nothing is stored if any "
        "row is bad; skip: store the good rows, report the bad ones",
    ),
    on_duplicate: str = Query("skip", description="skip or update items whose id exists"),
    format: str | None = Query(
        None,
        description="jsonl, json, csv or parquet; detected "
        "from Content-Type and the first bytes when absent",
    ),
) -> dict[str, Any]:
    """Import items. The body streams to a spool file; nothing holds it whole in memory."""
    if format is not None and format not in IMPORT_FORMATS:
        raise BadRequest(
            f"unknown import format {format!r}", hint=f"use one of: {', '.join(IMPORT_FORMATS)}"
        )
    await run_in_threadpool(items.check_import_access, platform, who, project_id)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        async for chunk in request.stream():
            spool.write(chunk)
        if spool.tell() == 0:
            raise BadRequest(
                "the request body is empty",
                hint="send items as NDJSON, a JSON list, CSV or Parquet",
            )
        spool.seek(0)
        head = spool.read(4096)
        spool.seek(0)
        fmt = format or detect_format(None, request.headers.get("content-type"), head)
        return await run_in_threadpool(
            items.import_items,
            platform,
            who,
            project_id,
            spool,
            fmt,
            on_error=on_error,
            on_duplicate=on_duplicate,
        )
    finally:
        spool.close()


@router.get("/projects/{project_id}/items")
def list_items(
    project_id: IdPath,
    platform: PlatformDep,
    who: PrincipalDep,
    limit: LimitQuery = 100,
    after: AfterQuery = 0,
) -> dict[str, Any]:
    return items.list_items(platform, who, project_id, limit=limit, after=after)


@router.get("/projects/{project_id}/items/{item_id}")
def get_item(
    project_id: IdPath, item_id: IdPath, platform: PlatformDep, who: PrincipalDep
) -> dict[str, Any]:
    return items.get_item(platform, who, project_id, item_id)
