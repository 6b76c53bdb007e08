"""Orgs, users, logins and API tokens."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError as DbIntegrityError

from labelvault.crypto import hash_password, new_token, token_digest, verify_password
from labelvault.domain.roles import OrgRole, can_grant_org_role
from labelvault.domain.text import check_text
from labelvault.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from labelvault.services import audit
from labelvault.services.access import require_org_admin
from labelvault.services.context import Platform, Principal
from labelvault.storage import accounts as store
from labelvault.storage import audit as audit_store
from labelvault.storage.database import now_ms

DAY_MS = 86_400_000


def _check_email(email: Any) -> str:
    email = check_text("email", email, max_length=320).strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or " " in email:
        raise InvalidInput(
            f"{email!r} is not an email address",
            hint="give an address like ana@example.org",
            errors=[{"field": "email", "message": "not an email address"}],
        )
    return email


@dataclass(frozen=True)
class NewOrg:
    org_id: int
    user_id: int
    token: str


def init_org(
    platform: Platform,
    owner_email: str,
    *,
    org_name: str | None = None,
    password: str | None = None,
) -> NewOrg:
    """Create an org, its owner and the owner's first API token."""
    email = _check_email(owner_email)
    token = new_token()
    with platform.db.write() as conn:
        if store.user_by_email(conn, email):
            raise Conflict(
                f"a user with email {email} already exists",
                hint="use another email, or log in with the existing account",
            )
        org_id = store.create_org(conn, org_name or email.split("@", 1)[1])
        audit_store.create_chains(conn, org_id)
        pw = hash_password(password) if password else None
        user_id = store.create_user(conn, org_id, email, OrgRole.OWNER, pw)
        store.create_token(conn, org_id, user_id, "initial", token_digest(token), None)
        audit.record(conn, org_id, user_id, "org.create", f"org:{org_id}", {"owner": user_id})
        audit.record(conn, org_id, user_id, "token.create", f"user:{user_id}", {"name": "initial"})
    return NewOrg(org_id=org_id, user_id=user_id, token=token)


class TokenCache:
    """Verified tokens for a few seconds, so hot paths skip one query per request."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        hit = self._entries.get(digest)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def put(self, digest: str, who: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + self.ttl, who)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_BAD_TOKEN = "the API token is missing, wrong, expired or revoked"
_TOKEN_HINT = (
    "send 'Authorization: Bearer TOKEN' with a token from `labelvault admin init` "
    "or POST /api/v1/auth/login"
)


def authenticate(platform: Platform, cache: TokenCache, token: str | None) -> Principal:
    if not token:
        raise Unauthenticated("no API token was sent", hint=_TOKEN_HINT)
    digest = token_digest(token)
    who = cache.get(digest)
    if who is not None:
        return who
    with platform.db.read() as conn:
        row = store.principal_for_token(conn, digest)
    now = now_ms()
    if (
        row is None
        or row["revoked_at"] is not None
        or row["disabled_at"] is not None
        or (row["expires_at"] is not None and row["expires_at"] <= now)
    ):
        raise Unauthenticated(_BAD_TOKEN, hint=_TOKEN_HINT)
    who = Principal(
        user_id=int(row["user_id"]),
        org_id=int(row["org_id"]),
        email=row["email"],
        org_role=OrgRole(row["org_role"]),
    )
    cache.put(digest, who)
    return who


def login(platform: Platform, email: str, password: str) -> dict[str, Any]:
    """Password login; returns a short-lived API token."""
    email = email.strip().lower()
    with platform.db.write() as conn:
        user = store.user_by_email(conn, email)
        ok = bool(
            user
            and user["password_hash"]
            and user["disabled_at"] is None
            and verify_password(user["password_hash"], password)
        )
        if not ok or user is None:
            if user is not None:
                audit.record(conn, user["org_id"], user["id"], "login.failed", f"user:{user['id']}")
        else:
            token = new_token()
            expires = now_ms() + platform.settings.login_token_hours * 3_600_000
            store.create_token(
                conn, user["org_id"], user["id"], "login", token_digest(token), expires
            )
            audit.record(conn, user["org_id"], user["id"], "login", f"user:{user['id']}")
            return {
                "token": token,
                "expires_at": expires,
                "user_id": user["id"],
                "org_id": user["org_id"],
            }
    raise Unauthenticated("wrong email or password", hint="check both and try again")


def create_token(
    platform: Platform, who: Principal, name: str, expires_in_days: int | None
) -> dict[str, Any]:
    name = check_text("name", name, max_length=200).strip()
    if not name:
        raise InvalidInput(
            "a token needs a name of 1 to 200 characters", hint='e.g. {"name": "ci-export"}'
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise InvalidInput(
            "expires_in_days must be between 1 and 3650",
            hint="leave it out for a token that does not expire",
        )
    token = new_token()
    expires = now_ms() + expires_in_days * DAY_MS if expires_in_days else None
    with platform.db.write() as conn:
        token_id = store.create_token(
            conn, who.org_id, who.user_id, name, token_digest(token), expires
        )
        audit.record_as(conn, who, "token.create", f"token:{token_id}", {"name": name})
    return {"id": token_id, "name": name, "token": token, "expires_at": expires}


def list_tokens(platform: Platform, who: Principal) -> list[dict[str, Any]]:
    with platform.db.read() as conn:
        return store.list_tokens(conn, who.org_id, who.user_id)


def revoke_token(platform: Platform, cache: TokenCache, who: Principal, token_id: int) -> None:
    with platform.db.write() as conn:
        if not store.revoke_token(conn, who.org_id, who.user_id, token_id):
            raise NotFound(
                f"token {token_id} was not found", hint="list your tokens with GET /api/v1/tokens"
            )
        audit.record_as(conn, who, "token.revoke", f"token:{token_id}")
    cache.clear()


def invite_user(
    platform: Platform, who: Principal, email: str, org_role: str, password: str | None
) -> dict[str, Any]:
    """Add a user to the caller's org; returns their first API token (shown once)."""
    require_org_admin(who)
    email = _check_email(email)
    role = _org_role(org_role)
    if not can_grant_org_role(who.org_role, role):
        raise Forbidden(
            f"an {who.org_role} cannot make someone {role}",
            hint="only an owner grants the owner or admin role",
        )
    if password is not None and len(password) < 10:
        raise InvalidInput(
            "passwords need at least 10 characters",
            hint="use a longer passphrase",
            errors=[{"field": "password", "message": "too short"}],
        )
    token = new_token()
    try:
        with platform.db.write() as conn:
            if store.user_by_email(conn, email):
                raise Conflict(
                    f"a user with email {email} already exists",
                    hint="give the existing user a project role instead",
                )
            pw = hash_password(password) if password else None
            user_id = store.create_user(conn, who.org_id, email, role, pw)
            store.create_token(conn, who.org_id, user_id, "invite", token_digest(token), None)
            audit.record_as(conn, who, "user.invite", f"user:{user_id}", {"org_role": role})
    except DbIntegrityError as exc:
        raise Conflict(
            f"a user with email {email} already exists",
            hint="give the existing user a project role instead",
        ) from exc
    return {"user_id": user_id, "email": email, "org_role": role.value, "token": token}


def _org_role(value: str) -> OrgRole:
    try:
        return OrgRole(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not an org role",
            hint="use one of: owner, admin, member",
            errors=[
                {"field": "org_role", "message": "unknown role", "allowed": "owner, admin, member"}
            ],
        ) from None


def list_users(platform: Platform, who: Principal) -> list[dict[str, Any]]:
    require_org_admin(who)
    with platform.db.read() as conn:
        return [
            {"user_id": u["id"], "email": u["email"], "org_role": u["org_role"]}
            for u in store.list_users(conn, who.org_id)
        ]


def set_org_role(
    platform: Platform, cache: TokenCache, who: Principal, user_id: int, org_role: str
) -> dict[str, Any]:
    require_org_admin(who)
    role = _org_role(org_role)
    if not can_grant_org_role(who.org_role, role):
        raise Forbidden(
            f"an {who.org_role} cannot make someone {role}",
            hint="only an owner grants the owner or admin role",
        )
    with platform.db.write() as conn:
        user = store.user_in_org(conn, who.org_id, user_id)
        if user is None:
            raise NotFound(f"user {user_id} was not found", hint="list users with GET /users")
        if user["org_role"] != OrgRole.MEMBER and who.org_role != OrgRole.OWNER:
            raise Forbidden(
                f"only an owner can change the role of an {user['org_role']}",
                hint="ask an owner of your organisation",
            )
        store.set_org_role(conn, who.org_id, user_id, role)
        audit.record_as(
            conn, who, "role.org", f"user:{user_id}", {"from": user["org_role"], "to": role.value}
        )
    cache.clear()
    return {"user_id": user_id, "email": user["email"], "org_role": role.value}
