"""Orgs, users and API tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from labelvault.storage.database import now_ms
from labelvault.storage.tables import api_tokens, orgs, users


def create_org(conn: Connection, name: str) -> int:
    result = conn.execute(insert(orgs).values(name=name, created_at=now_ms()))
    return int(result.inserted_primary_key[0])


def create_user(
    conn: Connection, org_id: int, email: str, org_role: str, password_hash: str | None
) -> int:
    result = conn.execute(
        insert(users).values(
            org_id=org_id,
            email=email,
            org_role=org_role,
            password_hash=password_hash,
            created_at=now_ms(),
        )
    )
    return int(result.inserted_primary_key[0])


def user_by_email(conn: Connection, email: str) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.email == email)).mappings().first()
    return dict(row) if row else None


def user_in_org(conn: Connection, org_id: int, user_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(select(users).where(users.c.org_id == org_id, users.c.id == user_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def list_users(conn: Connection, org_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(users).where(users.c.org_id == org_id).order_by(users.c.id))
    return [dict(r) for r in rows.mappings()]


def set_org_role(conn: Connection, org_id: int, user_id: int, role: str) -> None:
    conn.execute(
        update(users).where(users.c.org_id == org_id, users.c.id == user_id).values(org_role=role)
    )


def create_token(
    conn: Connection,
    org_id: int,
    user_id: int,
    name: str,
    digest: str,
    expires_at: int | None,
) -> int:
    result = conn.execute(
        insert(api_tokens).values(
            org_id=org_id,
            user_id=user_id,
            name=name,
            digest=digest,
            created_at=now_ms(),
            expires_at=expires_at,
        )
    )
    return int(result.inserted_primary_key[0])


def principal_for_token(conn: Connection, digest: str) -> dict[str, Any] | None:
    """The user behind a token digest, with the token's validity fields."""
    stmt = (
        select(
            api_tokens.c.id.label("token_id"),
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
            users.c.id.label("user_id"),
            users.c.org_id,
            users.c.email,
            users.c.org_role,
            users.c.disabled_at,
        )
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.digest == digest)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def list_tokens(conn: Connection, org_id: int, user_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(
            api_tokens.c.id,
            api_tokens.c.name,
            api_tokens.c.created_at,
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
            api_tokens.c.last_used_at,
        )
        .where(api_tokens.c.org_id == org_id, api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.id)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def revoke_token(conn: Connection, org_id: int, user_id: int, token_id: int) -> bool:
    result = conn.execute(
        update(api_tokens)
        .where(
            api_tokens.c.org_id == org_id,
            api_tokens.c.user_id == user_id,
            api_tokens.c.id == token_id,
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now_ms())
    )
    return result.rowcount > 0
