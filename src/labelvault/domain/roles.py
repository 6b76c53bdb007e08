"""Roles and what each may do.

Org roles sit above project roles: an org owner or admin acts as a manager of every project.
A member sees a project only through a project role; with none, the project does not exist
for them (404, not 403), so membership is never an existence oracle.
"""

from __future__ import annotations

from enum import StrEnum


class OrgRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class ProjectRole(StrEnum):
    MANAGER = "manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"


class Permission(StrEnum):
    PROJECT_READ = "project.read"
    PROJECT_MANAGE = "project.manage"
    PROJECT_DELETE = "project.delete"
    MEMBERS_MANAGE = "members.manage"
    ITEMS_LIST = "items.list"
    ITEMS_IMPORT = "items.import"
    QUEUE_WORK = "queue.work"
    EXPORT = "export"
    QUALITY_READ = "quality.read"


_ANNOTATOR = frozenset({Permission.PROJECT_READ, Permission.QUEUE_WORK})
_REVIEWER = _ANNOTATOR | {Permission.ITEMS_LIST, Permission.QUALITY_READ, Permission.EXPORT}
_MANAGER = _REVIEWER | {
    Permission.PROJECT_MANAGE,
    Permission.MEMBERS_MANAGE,
    Permission.ITEMS_IMPORT,
}
_ORG_ADMIN = _MANAGER | {Permission.PROJECT_DELETE}

_BY_PROJECT_ROLE: dict[ProjectRole, frozenset[Permission]] = {
    ProjectRole.ANNOTATOR: _ANNOTATOR,
    ProjectRole.REVIEWER: frozenset(_REVIEWER),
    ProjectRole.MANAGER: frozenset(_MANAGER),
}


def is_org_admin(org_role: OrgRole | str) -> bool:
    """Owners and admins manage users and see every project of their org."""
    return OrgRole(org_role) in (OrgRole.OWNER, OrgRole.ADMIN)


def project_permissions(
    org_role: OrgRole | str, project_role: ProjectRole | str | None
) -> frozenset[Permission]:
    """Everything a user may do in one project; empty means the project is invisible."""
    if is_org_admin(org_role):
        return frozenset(_ORG_ADMIN)
    if project_role is None:
        return frozenset()
    return _BY_PROJECT_ROLE[ProjectRole(project_role)]


def can_grant_org_role(granter: OrgRole | str, role: OrgRole | str) -> bool:
    """Only an owner makes owners or admins; admins may add members."""
    granter, role = OrgRole(granter), OrgRole(role)
    if granter is OrgRole.OWNER:
        return True
    return granter is OrgRole.ADMIN and role is OrgRole.MEMBER
