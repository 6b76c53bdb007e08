"""The one authorization path: every project-scoped use case starts here.

A project of another org, or one the caller has no role in, is NotFound (404), never
Forbidden, so ids cannot be probed. Forbidden (403) is only for a visible project where
the caller's role lacks the permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from labelvault.domain.roles import Permission, ProjectRole, project_permissions
from labelvault.errors import Forbidden, NotFound
from labelvault.services.context import Principal
from labelvault.storage import projects as project_store


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    project: dict[str, Any]
    role: ProjectRole | None
    permissions: frozenset[Permission]

    @property
    def id(self) -> int:
        return int(self.project["id"])

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def project_not_found(project_id: int) -> NotFound:
    return NotFound(
        f"project {project_id} was not found",
        hint="check the id with GET /api/v1/projects; you only see projects you have a role in",
    )


def authorize_project(
    conn: Connection, who: Principal, project_id: int, need: Permission
) -> ProjectAccess:
    """Load a project the caller may see and check one permission on it."""
    row = project_store.project_with_role(conn, who.org_id, project_id, who.user_id)
    if row is None:
        raise project_not_found(project_id)
    role = ProjectRole(row["member_role"]) if row["member_role"] else None
    permissions = project_permissions(who.org_role, role)
    if not permissions:
        raise project_not_found(project_id)
    if need not in permissions:
        raise Forbidden(
            f"your role in project {project_id} ({role or who.org_role}) does not allow "
            f"{need.value}",
            hint="ask a project manager or an org admin for a role that allows it",
        )
    return ProjectAccess(project=row, role=role, permissions=permissions)


def require_org_admin(who: Principal) -> None:
    if not who.is_org_admin:
        raise Forbidden(
            "only org owners and admins may do this",
            hint="ask an owner of your organisation",
        )
