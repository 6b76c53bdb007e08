"""Every REST call of docs/api.md as a Call value, built once for both clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from labelvault.errors import InvalidInput

from ._bodies import NDJSON, Progress, content_type_for, file_chunks, ndjson_chunks
from ._http import (
    Call,
    Id,
    JSONDict,
    Retry,
    parse_json,
    parse_list,
    parse_nothing,
    parse_object,
    parse_response,
    segment,
    unexpected_response,
)
from .models import Task

ImportSource = str | os.PathLike[str] | Iterable[Mapping[str, Any]]
OnError = Literal["abort", "skip"]
OnDuplicate = Literal["skip", "update"]

# Unix times above this are milliseconds (in seconds it would be the year 5138).
MILLISECONDS_THRESHOLD = 10**11
_PROJECT_FIELDS = frozenset({"name", "description", "schema", "overlap", "lease_seconds"})


def _project(project_id: Id) -> str:
    return f"/projects/{segment(project_id)}"


# ---- identity and access -------------------------------------------------------------


def me() -> Call[JSONDict]:
    return Call("GET", "/me", parse_object)


def create_token(name: str, expires_in_days: int | None) -> Call[JSONDict]:
    body: JSONDict = {"name": name}
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    return Call("POST", "/tokens", parse_object, json=body)


def list_tokens() -> Call[list[JSONDict]]:
    return Call("GET", "/tokens", parse_list)


def revoke_token(token_id: Id) -> Call[None]:
    return Call("DELETE", f"/tokens/{segment(token_id)}", parse_nothing)


def invite_user(email: str, org_role: str, password: str | None) -> Call[JSONDict]:
    body: JSONDict = {"email": email, "org_role": str(org_role)}
    if password is not None:
        body["password"] = password
    return Call("POST", "/users", parse_object, json=body)


def list_users() -> Call[list[JSONDict]]:
    return Call("GET", "/users", parse_list)


# ---- projects and members ------------------------------------------------------------


def create_project(
    name: str,
    schema: Mapping[str, Any],
    overlap: int,
    lease_seconds: int | None,
    description: str | None,
) -> Call[JSONDict]:
    body: JSONDict = {"name": name, "schema": dict(schema), "overlap": overlap}
    if lease_seconds is not None:
        body["lease_seconds"] = lease_seconds
    if description is not None:
        body["description"] = description
    return Call("POST", "/projects", parse_object, json=body)


def get_project(project_id: Id) -> Call[JSONDict]:
    return Call("GET", _project(project_id), parse_object)


def list_projects() -> Call[list[JSONDict]]:
    return Call("GET", "/projects", parse_list)


def update_project(project_id: Id, fields: Mapping[str, Any]) -> Call[JSONDict]:
    unknown = sorted(set(fields) - _PROJECT_FIELDS)
    if unknown:
        raise InvalidInput(
            f"cannot update project field(s): {', '.join(unknown)}",
            hint=f"updatable fields: {', '.join(sorted(_PROJECT_FIELDS))}",
        )
    if not fields:
        raise InvalidInput(
            "nothing to update", hint="pass at least one field, e.g. name='new name'"
        )
    # PATCH bumps schema_version when a schema is sent: not idempotent, never replayed.
    return Call("PATCH", _project(project_id), parse_object, json=dict(fields))


def delete_project(project_id: Id) -> Call[None]:
    return Call("DELETE", _project(project_id), parse_nothing)


def list_members(project_id: Id) -> Call[list[JSONDict]]:
    return Call("GET", f"{_project(project_id)}/members", parse_list)


def set_member(project_id: Id, user_id: Id, role: str) -> Call[JSONDict]:
    return Call(
        "PUT",
        f"{_project(project_id)}/members/{segment(user_id)}",
        parse_object,
        json={"role": str(role)},
    )


def remove_member(project_id: Id, user_id: Id) -> Call[None]:
    return Call("DELETE", f"{_project(project_id)}/members/{segment(user_id)}", parse_nothing)


# ---- items ---------------------------------------------------------------------------


def import_items(
    project_id: Id,
    source: ImportSource,
    format: str | None,
    on_error: OnError,
    on_duplicate: OnDuplicate,
    progress: Progress | None,
) -> Call[JSONDict]:
    """A path streams the file as is; an iterable of dicts streams as NDJSON.

    A file can be re-read, so the import is retried only if the connection never opened;
    a caller's iterable may be a one-shot generator, so it is sent exactly once.
    """
    _check_choice("on_error", on_error, ("abort", "skip"))
    _check_choice("on_duplicate", on_duplicate, ("skip", "update"))
    params: dict[str, str | int] = {"on_error": on_error, "on_duplicate": on_duplicate}
    path = f"{_project(project_id)}/items"
    if isinstance(source, str | os.PathLike):
        file = Path(source)
        headers = {
            "Content-Type": content_type_for(file, format),
            "Content-Length": str(file.stat().st_size),
        }
        return Call(
            "POST",
            path,
            parse_object,
            params=params,
            headers=headers,
            body=lambda: file_chunks(file, progress),
            retry=Retry.UNSENT_ONLY,
        )
    if format is not None and format.lower() not in ("jsonl", "ndjson"):
        raise InvalidInput(
            f"items given as an iterable are always sent as NDJSON, not {format!r}",
            hint="drop format=, or pass a path to a .csv/.parquet file instead",
        )
    if isinstance(source, Mapping) or not isinstance(source, Iterable):
        raise InvalidInput(
            f"cannot import from a {type(source).__name__}",
            hint="pass a file path, or an iterable of dicts (one per item)",
        )
    items = source
    return Call(
        "POST",
        path,
        parse_object,
        params=params,
        headers={"Content-Type": NDJSON},
        body=lambda: ndjson_chunks(items, progress),
        retry=Retry.NEVER,
    )


def list_items(project_id: Id, limit: int, after: Id | None) -> Call[JSONDict]:
    params: dict[str, str | int] = {"limit": limit}
    if after is not None:
        params["after"] = str(after)
    return Call("GET", f"{_project(project_id)}/items", parse_object, params=params)


def get_item(project_id: Id, item_id: Id) -> Call[JSONDict]:
    return Call("GET", f"{_project(project_id)}/items/{segment(item_id)}", parse_object)


# ---- work queue ----------------------------------------------------------------------


def next_task(project_id: Id) -> Call[Task | None]:
    return Call("GET", f"{_project(project_id)}/next", _parse_task)


def submit(
    assignment_id: Id, values: Mapping[str, Any], idempotency_key: str | None
) -> Call[JSONDict]:
    """The key is fixed here, once, so every retry of this call carries the same one."""
    key = idempotency_key or str(uuid.uuid4())
    return Call(
        "POST",
        f"/assignments/{segment(assignment_id)}/submit",
        parse_object,
        json={"values": dict(values)},
        headers={"Idempotency-Key": key},
        retry=Retry.IDEMPOTENT,
    )


def skip(assignment_id: Id, reason: str) -> Call[JSONDict]:
    return Call(
        "POST", f"/assignments/{segment(assignment_id)}/skip", parse_object, json={"reason": reason}
    )


def renew(assignment_id: Id) -> Call[JSONDict]:
    # Renewing twice only extends the same lease: safe to replay.
    return Call(
        "POST",
        f"/assignments/{segment(assignment_id)}/renew",
        parse_object,
        retry=Retry.IDEMPOTENT,
    )


def parse_timestamp(value: Any) -> datetime:
    """An aware UTC datetime from ISO 8601 text or a Unix time in seconds or milliseconds."""
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= MILLISECONDS_THRESHOLD else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_task(response: httpx.Response) -> Task | None:
    if response.status_code == 204:
        return None
    body = parse_object(response)
    try:
        return Task(
            assignment_id=str(body["assignment_id"]),
            item=dict(body["item"]),
            lease_expires_at=parse_timestamp(body["lease_expires_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise unexpected_response(response, f"not a task ({exc!r})") from None


# ---- export, quality, audit ----------------------------------------------------------


def export(project_id: Id, format: str) -> Call[httpx.Response]:
    return Call(
        "GET",
        f"{_project(project_id)}/export",
        parse_response,
        params={"format": format},
        headers={"Accept": "*/*"},
        stream=True,
    )


def quality(project_id: Id) -> Call[JSONDict]:
    return Call("GET", f"{_project(project_id)}/quality", parse_object)


def leaderboard(project_id: Id) -> Call[JSONDict]:
    return Call("GET", f"{_project(project_id)}/leaderboard", _parse_object_or_entries)


def audit(after_id: int, limit: int) -> Call[JSONDict]:
    return Call(
        "GET", "/audit", _parse_object_or_entries, params={"after_id": after_id, "limit": limit}
    )


def _parse_object_or_entries(response: httpx.Response) -> JSONDict:
    """An object as is; a bare list as {"entries": [...]} so callers get one shape."""
    body = parse_json(response)
    if isinstance(body, list):
        return {"entries": body}
    if not isinstance(body, dict):
        raise unexpected_response(response, "expected a JSON object")
    return body


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInput(
            f"{name}={value!r} is not allowed", hint=f"use one of: {', '.join(allowed)}"
        )
