"""Projects and their members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from labelvault.server.api.params import IdPath
from labelvault.server.deps import PlatformDep, PrincipalDep
from labelvault.services import projects

router = APIRouter(tags=["projects"])


class ProjectBody(BaseModel):
    name: str
    label_schema: dict[str, Any] = Field(alias="schema")
    overlap: int = 1
    lease_seconds: int | None = None
    description: str = ""


class MemberBody(BaseModel):
    role: str


@router.post("/projects", status_code=201)
def create_project(body: ProjectBody, platform: PlatformDep, who: PrincipalDep) -> dict[str, Any]:
    return projects.create(
        platform,
        who,
        name=body.name,
        schema=body.label_schema,
        overlap=body.overlap,
        lease_seconds=body.lease_seconds,
        description=body.description,
    )


@router.get("/projects")
def list_projects(platform: PlatformDep, who: PrincipalDep) -> list[dict[str, Any]]:
    return projects.list_visible(platform, who)


@router.get("/projects/{project_id}")
def get_project(project_id: IdPath, platform: PlatformDep, who: PrincipalDep) -> dict[str, Any]:
    return projects.get(platform, who, project_id)


@router.patch("/projects/{project_id}")
def update_project(
    project_id: IdPath, changes: dict[str, Any], platform: PlatformDep, who: PrincipalDep
) -> dict[str, Any]:
    return projects.update(platform, who, project_id, changes)


@router.delete("/projects/{project_id}", status_code=204)
def delete_project(project_id: IdPath, platform: PlatformDep, who: PrincipalDep) -> Response:
    projects.delete(platform, who, project_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/members")
def list_members(
    project_id: IdPath, platform: PlatformDep, who: PrincipalDep
) -> list[dict[str, Any]]:
    return projects.list_members(platform, who, project_id)


@router.put("/projects/{project_id}/members/{user_id}")
def set_member(
    project_id: IdPath, user_id: IdPath, body: MemberBody, platform: PlatformDep, who: PrincipalDep
) -> dict[str, Any]:
    return projects.set_member(platform, who, project_id, user_id, body.role)


@router.delete("/projects/{project_id}/members/{user_id}", status_code=204)
def remove_member(
    project_id: IdPath, user_id: IdPath, platform: PlatformDep, who: PrincipalDep
) -> Response:
    projects.remove_member(platform, who, project_id, user_id)
    return Response(status_code=204)
