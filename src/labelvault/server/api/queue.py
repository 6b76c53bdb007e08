"""The annotator's loop: next, renew, submit, skip."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field

from labelvault.server.api.params import IdPath
from labelvault.server.deps import PlatformDep, PrincipalDep, json_response, run_write
from labelvault.services import queue

router = APIRouter(tags=["queue"])


class SubmitBody(BaseModel):
    values: Any = Field(description="The answer, keyed by the schema's field names.")


class SkipBody(BaseModel):
    reason: str = Field(max_length=2000)


@router.get("/projects/{project_id}/next", responses={204: {"description": "No work left"}})
async def next_task(project_id: IdPath, platform: PlatformDep, who: PrincipalDep) -> Any:
    task = await run_write(platform, queue.next_task, platform, who, project_id)
    if task is None:
        return Response(status_code=204)
    return json_response(task)


@router.post("/assignments/{assignment_id}/renew")
async def renew(assignment_id: IdPath, platform: PlatformDep, who: PrincipalDep) -> Any:
    return json_response(await run_write(platform, queue.renew, platform, who, assignment_id))


@router.post("/assignments/{assignment_id}/submit")
async def submit(
    assignment_id: IdPath,
    body: SubmitBody,
    platform: PlatformDep,
    who: PrincipalDep,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Any:
    result = await run_write(
        platform, queue.submit, platform, who, assignment_id, body.values, idempotency_key
    )
    return json_response(result)


@router.post("/assignments/{assignment_id}/skip")
async def skip(
    assignment_id: IdPath,
    body: SkipBody,
    platform: PlatformDep,
    who: PrincipalDep,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> dict[str, Any]:
    result = await run_write(
        platform, queue.skip, platform, who, assignment_id, body.reason, idempotency_key
    )
    return json_response(result)
