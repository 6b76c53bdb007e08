"""The annotator's loop: next, renew, submit, skip."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from labelvault.server.api.params import IdPath
from labelvault.server.deps import PlatformDep, PrincipalDep
from labelvault.services import queue

router = APIRouter(tags=["queue"])


class SubmitBody(BaseModel):
    values: Any = Field(description="The answer, keyed by the schema's field names.")


class SkipBody(BaseModel):
    reason: str = Field(max_length=2000)


@router.get("/projects/{project_id}/next", responses={204: {"description": "No work left"}})
def next_task(project_id: IdPath, platform: PlatformDep, who: PrincipalDep) -> Any:
    task = queue.next_task(platform, who, project_id)
    if task is None:
        return Response(status_code=204)
    return JSONResponse(task)


@router.post("/assignments/{assignment_id}/renew")
def renew(assignment_id: IdPath, platform: PlatformDep, who: PrincipalDep) -> dict[str, Any]:
    return queue.renew(platform, who, assignment_id)


@router.post("/assignments/{assignment_id}/submit")
def submit(
    assignment_id: IdPath,
    body: SubmitBody,
    platform: PlatformDep,
    who: PrincipalDep,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> dict[str, Any]:
    return queue.submit(platform, who, assignment_id, body.values, idempotency_key)


@router.post("/assignments/{assignment_id}/skip")
def skip(
    assignment_id: IdPath,
    body: SkipBody,
    platform: PlatformDep,
    who: PrincipalDep,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> dict[str, Any]:
    return queue.skip(platform, who, assignment_id, body.reason, idempotency_key)
