"""Projects, their label schemas, members and data keys."""

from __future__ import annotations

import threading
from typing import Any

import orjson

from labelvault.crypto import DataKey
from labelvault.domain.roles import Permission, ProjectRole
from labelvault.domain.schema import LabelSchema, parse_schema
from labelvault.domain.text import check_text
from labelvault.errors import InvalidInput, NotFound
from labelvault.services import audit
from labelvault.services.access import authorize_project, require_org_admin
from labelvault.services.context import Platform, Principal, key_context
from labelvault.storage import accounts as account_store
from labelvault.storage import projects as store

#: Parsed schemas by their stored JSON text: the same text always parses the same way,
#: whichever installation or project it came from.
_schemas: dict[str, LabelSchema] = {}
_schemas_lock = threading.Lock()


def schema_of(project: dict[str, Any]) -> LabelSchema:
    """The parsed current schema of a project row (parsed once per process and version)."""
    key: str = project["schema_json"]
    schema = _schemas.get(key)
    if schema is None:
        schema = parse_schema(orjson.loads(key))
        with _schemas_lock:
            if len(_schemas) > 10_000:
                _schemas.clear()
            _schemas[key] = schema
    return schema


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"{name} must be a whole number from {low} to {high}, got {value!r}",
            hint=f"set {name} between {low} and {high}",
            errors=[{"field": name, "message": "out of range", "allowed": f"{low}..{high}"}],
        )
    return value


def _check_name(name: Any) -> str:
    return check_text("name", name.strip() if isinstance(name, str) else name, max_length=200)


def to_public(
    project: dict[str, Any], schema: LabelSchema | None = None, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    body = {
        "id": project["id"],
        "name": project["name"],
        "description": project["description"],
        "schema_version": project["schema_version"],
        "overlap": project["overlap"],
        "lease_seconds": project["lease_seconds"],
        "created_at": project["created_at"],
    }
    if schema is not None:
        body["schema"] = schema.to_json()
    if counts is not None:
        body["counts"] = counts
    return body


def create(
    platform: Platform,
    who: Principal,
    *,
    name: Any,
    schema: Any,
    overlap: Any = 1,
    lease_seconds: Any = None,
    description: Any = "",
) -> dict[str, Any]:
    """Create a project with its own data key; the creator becomes its manager."""
    name = _check_name(name)
    parsed = parse_schema(schema)
    overlap = _check_int("overlap", overlap, 1, 100)
    lease = _check_int(
        "lease_seconds",
        platform.settings.default_lease_seconds if lease_seconds is None else lease_seconds,
        10,
        86_400,
    )
    description = check_text("description", description, max_length=10_000, min_length=0)
    dek = DataKey.generate()
    with platform.db.write() as conn:
        project_id = store.create_project(
            conn,
            who.org_id,
            name=name,
            description=description,
            schema_json=orjson.dumps(parsed.to_json()).decode(),
            overlap=overlap,
            lease_seconds=lease,
        )
        # Each project gets its own key-encryption key, kept in the key provider (never in
        # the database), so deleting the project can destroy it for good.
        kek_id = platform.keys.add_key()
        wrapped = platform.keys.wrap_with(kek_id, dek.raw, context=key_context(project_id))
        store.store_key(conn, who.org_id, project_id, kek_id, wrapped)
        if not who.is_org_admin:
            store.set_member(conn, who.org_id, project_id, who.user_id, ProjectRole.MANAGER)
        audit.record_as(
            conn,
            who,
            "project.create",
            f"project:{project_id}",
            {"overlap": overlap, "kek_id": kek_id},
        )
        project = store.get_project(conn, who.org_id, project_id)
    assert project is not None
    return to_public(project, parsed, {"items": 0, "annotations": 0, "completed_items": 0})


def get(platform: Platform, who: Principal, project_id: int) -> dict[str, Any]:
    with platform.db.read() as conn:
        access = authorize_project(conn, who, project_id, Permission.PROJECT_READ)
        project = store.get_project(conn, who.org_id, project_id)
        assert project is not None
        counts = store.project_counts(conn, project_id, int(project["overlap"]))
    body = to_public(project, schema_of(project), counts)
    body["my_role"] = access.role.value if access.role else who.org_role.value
    return body


def list_visible(platform: Platform, who: Principal) -> list[dict[str, Any]]:
    with platform.db.read() as conn:
        rows = store.list_projects(
            conn, who.org_id, member_id=None if who.is_org_admin else who.user_id
        )
    return [to_public(r) for r in rows]


def update(
    platform: Platform, who: Principal, project_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    allowed = {"name", "description", "schema", "overlap", "lease_seconds"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            f"cannot change {', '.join(sorted(unknown))}",
            hint=f"changeable fields: {', '.join(sorted(allowed))}",
        )
    with platform.db.write() as conn:
        access = authorize_project(conn, who, project_id, Permission.PROJECT_MANAGE)
        project = access.project
        values: dict[str, Any] = {}
        if "name" in changes:
            values["name"] = _check_name(changes["name"])
        if "description" in changes:
            values["description"] = check_text(
                "description", changes["description"], max_length=10_000, min_length=0
            )
        if "overlap" in changes:
            values["overlap"] = _check_int("overlap", changes["overlap"], 1, 100)
        if "lease_seconds" in changes:
            values["lease_seconds"] = _check_int(
                "lease_seconds", changes["lease_seconds"], 10, 86_400
            )
        if "schema" in changes:
            parsed = parse_schema(changes["schema"])
            version = int(project["schema_version"]) + 1
            store.add_schema_version(
                conn, who.org_id, project_id, version, orjson.dumps(parsed.to_json()).decode()
            )
            values["schema_version"] = version
        store.update_project(conn, who.org_id, project_id, **values)
        audit.record_as(
            conn, who, "project.update", f"project:{project_id}", {"changed": sorted(values)}
        )
    return get(platform, who, project_id)


def delete(platform: Platform, who: Principal, project_id: int) -> None:
    """Delete a project and destroy its key-encryption key (crypto-shred).

    The wrapped data key may survive in database backups, but the key that unwraps it
    lived only in the key provider and is gone, so those backups cannot be read either.
    """
    with platform.db.write() as conn:
        authorize_project(conn, who, project_id, Permission.PROJECT_DELETE)
        stored = store.load_key(conn, project_id)
        store.mark_deleted(conn, who.org_id, project_id)
        audit.record_as(
            conn, who, "project.delete", f"project:{project_id}", {"crypto_shred": True}
        )
    platform.forget_key(project_id)
    if stored is not None and stored[0] != platform.keys.current_kek_id():
        platform.keys.destroy_key(stored[0])


def _role(value: Any) -> ProjectRole:
    try:
        return ProjectRole(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not a project role",
            hint="use one of: manager, reviewer, annotator",
            errors=[
                {
                    "field": "role",
                    "message": "unknown role",
                    "allowed": "manager, reviewer, annotator",
                }
            ],
        ) from None


def set_member(
    platform: Platform, who: Principal, project_id: int, user_id: int, role: Any
) -> dict[str, Any]:
    new_role = _role(role)
    with platform.db.write() as conn:
        authorize_project(conn, who, project_id, Permission.MEMBERS_MANAGE)
        user = account_store.user_in_org(conn, who.org_id, user_id)
        if user is None:
            raise NotFound(
                f"user {user_id} was not found",
                hint="invite the user first with POST /api/v1/users",
            )
        old = store.member_role(conn, project_id, user_id)
        store.set_member(conn, who.org_id, project_id, user_id, new_role)
        audit.record_as(
            conn,
            who,
            "role.project",
            f"project:{project_id}/user:{user_id}",
            {"from": old, "to": new_role.value},
        )
    return {"user_id": user_id, "email": user["email"], "role": new_role.value}


def remove_member(platform: Platform, who: Principal, project_id: int, user_id: int) -> None:
    with platform.db.write() as conn:
        authorize_project(conn, who, project_id, Permission.MEMBERS_MANAGE)
        if not store.remove_member(conn, project_id, user_id):
            raise NotFound(
                f"user {user_id} is not a member of project {project_id}",
                hint="list members with GET /projects/{id}/members",
            )
        audit.record_as(
            conn, who, "role.project", f"project:{project_id}/user:{user_id}", {"to": None}
        )


def list_members(platform: Platform, who: Principal, project_id: int) -> list[dict[str, Any]]:
    with platform.db.read() as conn:
        authorize_project(conn, who, project_id, Permission.MEMBERS_MANAGE)
        return store.list_members(conn, project_id)


def rotate_keys(platform: Platform, who: Principal | None = None) -> dict[str, Any]:
    """Give every project a fresh key-encryption key and re-wrap its data key under it.

    The data itself is not re-encrypted (the data keys stay), so this runs without
    downtime; the retired keys are destroyed once the new wraps are committed.
    """
    if who is not None:
        require_org_admin(who)
    retired: list[str] = []
    with platform.db.write() as conn:
        for org_id, project_id, kek_id, wrapped in store.all_keys(conn):
            context = key_context(project_id)
            dek = platform.keys.unwrap(kek_id, wrapped, context=context)
            new_id = platform.keys.add_key()
            store.replace_key(
                conn, project_id, new_id, platform.keys.wrap_with(new_id, dek, context=context)
            )
            audit.record(
                conn,
                org_id,
                who.user_id if who else None,
                "key.rewrap",
                f"project:{project_id}",
                {"from": kek_id, "to": new_id},
            )
            retired.append(kek_id)
    master = platform.keys.current_kek_id()
    for kek_id in retired:
        if kek_id != master:
            platform.keys.destroy_key(kek_id)
    return {"rewrapped": len(retired), "kek_id": master}
