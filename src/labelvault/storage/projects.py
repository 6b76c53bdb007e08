"""Projects, their schema versions, data keys and members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from labelvault.storage.database import now_ms
from labelvault.storage.tables import (
    assignments,
    items,
    project_keys,
    project_members,
    project_schemas,
    projects,
    users,
)


def create_project(
    conn: Connection,
    org_id: int,
    *,
    name: str,
    description: str,
    schema_json: str,
    overlap: int,
    lease_seconds: int,
) -> int:
    now = now_ms()
    result = conn.execute(
        insert(projects).values(
            org_id=org_id,
            name=name,
            description=description,
            schema_version=1,
            overlap=overlap,
            lease_seconds=lease_seconds,
            created_at=now,
        )
    )
    project_id = int(result.inserted_primary_key[0])
    add_schema_version(conn, org_id, project_id, 1, schema_json)
    return project_id


def add_schema_version(
    conn: Connection, org_id: int, project_id: int, version: int, schema_json: str
) -> None:
    conn.execute(
        insert(project_schemas).values(
            project_id=project_id,
            version=version,
            org_id=org_id,
            schema_json=schema_json,
            created_at=now_ms(),
        )
    )


_LIVE = projects.c.deleted_at.is_(None)


#: A project joined to its current schema version.
_WITH_CURRENT_SCHEMA = projects.join(
    project_schemas,
    and_(
        project_schemas.c.project_id == projects.c.id,
        project_schemas.c.version == projects.c.schema_version,
    ),
)
_IN_ORG = and_(projects.c.org_id == bindparam("org"), projects.c.id == bindparam("project"), _LIVE)
_GET_PROJECT = (
    select(projects, project_schemas.c.schema_json).select_from(_WITH_CURRENT_SCHEMA).where(_IN_ORG)
)


def get_project(conn: Connection, org_id: int, project_id: int) -> dict[str, Any] | None:
    """A live project of this org with its current schema, or None (also for other orgs)."""
    row = conn.execute(_GET_PROJECT, {"org": org_id, "project": project_id}).mappings().first()
    return dict(row) if row else None


def list_projects(
    conn: Connection, org_id: int, *, member_id: int | None = None
) -> list[dict[str, Any]]:
    """Projects of the org; with member_id, only those the user has a role in."""
    stmt = select(projects).where(projects.c.org_id == org_id, _LIVE).order_by(projects.c.id)
    if member_id is not None:
        stmt = stmt.join(
            project_members,
            and_(
                project_members.c.project_id == projects.c.id,
                project_members.c.user_id == member_id,
            ),
        )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def update_project(conn: Connection, org_id: int, project_id: int, **values: Any) -> None:
    if values:
        conn.execute(
            update(projects)
            .where(projects.c.org_id == org_id, projects.c.id == project_id)
            .values(**values)
        )


def mark_deleted(conn: Connection, org_id: int, project_id: int) -> None:
    """Soft-delete the project row and remove its content rows and its data key."""
    conn.execute(
        update(projects)
        .where(projects.c.org_id == org_id, projects.c.id == project_id)
        .values(deleted_at=now_ms())
    )
    conn.execute(delete(project_keys).where(project_keys.c.project_id == project_id))
    conn.execute(delete(assignments).where(assignments.c.project_id == project_id))
    conn.execute(delete(items).where(items.c.project_id == project_id))
    conn.execute(delete(project_members).where(project_members.c.project_id == project_id))


def project_counts(conn: Connection, project_id: int, overlap: int) -> dict[str, int]:
    n_items = conn.execute(
        select(func.count()).select_from(items).where(items.c.project_id == project_id)
    ).scalar_one()
    per_item = (
        select(assignments.c.item_id, func.count().label("n"))
        .where(assignments.c.project_id == project_id, assignments.c.status == "submitted")
        .group_by(assignments.c.item_id)
        .subquery()
    )
    n_ann, n_done = conn.execute(
        select(
            func.coalesce(func.sum(per_item.c.n), 0),
            func.coalesce(func.sum((per_item.c.n >= overlap).cast(items.c.slots_used.type)), 0),
        )
    ).one()
    return {"items": int(n_items), "annotations": int(n_ann), "completed_items": int(n_done)}


# -- data keys ---------------------------------------------------------------------------


def store_key(conn: Connection, org_id: int, project_id: int, kek_id: str, wrapped: bytes) -> None:
    conn.execute(
        insert(project_keys).values(
            project_id=project_id,
            org_id=org_id,
            kek_id=kek_id,
            wrapped_dek=wrapped,
            created_at=now_ms(),
        )
    )


def load_key(conn: Connection, project_id: int) -> tuple[str, bytes] | None:
    row = conn.execute(
        select(project_keys.c.kek_id, project_keys.c.wrapped_dek).where(
            project_keys.c.project_id == project_id
        )
    ).first()
    return (row[0], bytes(row[1])) if row else None


def all_keys(conn: Connection) -> list[tuple[int, int, str, bytes]]:
    """(org_id, project_id, kek_id, wrapped) of every live data key."""
    rows = conn.execute(
        select(
            project_keys.c.org_id,
            project_keys.c.project_id,
            project_keys.c.kek_id,
            project_keys.c.wrapped_dek,
        )
    )
    return [(int(o), int(p), k, bytes(w)) for o, p, k, w in rows]


def replace_key(conn: Connection, project_id: int, kek_id: str, wrapped: bytes) -> None:
    conn.execute(
        update(project_keys)
        .where(project_keys.c.project_id == project_id)
        .values(kek_id=kek_id, wrapped_dek=wrapped)
    )


# -- members -----------------------------------------------------------------------------


def member_role(conn: Connection, project_id: int, user_id: int) -> str | None:
    return conn.execute(
        select(project_members.c.role).where(
            project_members.c.project_id == project_id, project_members.c.user_id == user_id
        )
    ).scalar_one_or_none()


_PROJECT_WITH_ROLE = (
    select(projects, project_schemas.c.schema_json, project_members.c.role.label("member_role"))
    .select_from(
        _WITH_CURRENT_SCHEMA.outerjoin(
            project_members,
            and_(
                project_members.c.project_id == projects.c.id,
                project_members.c.user_id == bindparam("user"),
            ),
        )
    )
    .where(_IN_ORG)
)


def project_with_role(
    conn: Connection, org_id: int, project_id: int, user_id: int
) -> dict[str, Any] | None:
    """The live project (org-scoped) plus the user's role in it, in one round trip."""
    row = (
        conn.execute(_PROJECT_WITH_ROLE, {"org": org_id, "project": project_id, "user": user_id})
        .mappings()
        .first()
    )
    return dict(row) if row else None


def set_member(conn: Connection, org_id: int, project_id: int, user_id: int, role: str) -> None:
    changed = conn.execute(
        update(project_members)
        .where(project_members.c.project_id == project_id, project_members.c.user_id == user_id)
        .values(role=role)
    ).rowcount
    if not changed:
        conn.execute(
            insert(project_members).values(
                project_id=project_id, user_id=user_id, org_id=org_id, role=role
            )
        )


def remove_member(conn: Connection, project_id: int, user_id: int) -> bool:
    result = conn.execute(
        delete(project_members).where(
            project_members.c.project_id == project_id, project_members.c.user_id == user_id
        )
    )
    return result.rowcount > 0


def list_members(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(project_members.c.user_id, users.c.email, project_members.c.role)
        .join(users, users.c.id == project_members.c.user_id)
        .where(project_members.c.project_id == project_id)
        .order_by(project_members.c.user_id)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]
