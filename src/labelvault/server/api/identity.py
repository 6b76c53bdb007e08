"""Login, the current user, API tokens and org users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from labelvault.server.api.params import IdPath
from labelvault.server.deps import PlatformDep, PrincipalDep, TokenCacheDep
from labelvault.services import accounts

router = APIRouter(tags=["identity"])


class LoginBody(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenBody(BaseModel):
    name: str = Field(max_length=200)
    expires_in_days: int | None = None


class InviteBody(BaseModel):
    email: str = Field(max_length=320)
    org_role: str = "member"
    password: str | None = Field(None, max_length=1024)


class OrgRoleBody(BaseModel):
    org_role: str


@router.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/auth/login")
def login(body: LoginBody, platform: PlatformDep) -> dict[str, Any]:
    return accounts.login(platform, body.email, body.password)


@router.get("/me")
def me(who: PrincipalDep) -> dict[str, Any]:
    return {
        "user_id": who.user_id,
        "email": who.email,
        "org_id": who.org_id,
        "org_role": who.org_role.value,
    }


@router.post("/tokens", status_code=201)
def create_token(body: TokenBody, platform: PlatformDep, who: PrincipalDep) -> dict[str, Any]:
    return accounts.create_token(platform, who, body.name, body.expires_in_days)


@router.get("/tokens")
def list_tokens(platform: PlatformDep, who: PrincipalDep) -> list[dict[str, Any]]:
    return accounts.list_tokens(platform, who)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: IdPath, platform: PlatformDep, cache: TokenCacheDep, who: PrincipalDep
) -> Response:
    accounts.revoke_token(platform, cache, who, token_id)
    return Response(status_code=204)


@router.post("/users", status_code=201)
def invite(body: InviteBody, platform: PlatformDep, who: PrincipalDep) -> dict[str, Any]:
    return accounts.invite_user(platform, who, body.email, body.org_role, body.password)


@router.get("/users")
def list_users(platform: PlatformDep, who: PrincipalDep) -> list[dict[str, Any]]:
    return accounts.list_users(platform, who)


@router.patch("/users/{user_id}")
def set_org_role(
    user_id: IdPath,
    body: OrgRoleBody,
    platform: PlatformDep,
    cache: TokenCacheDep,
    who: PrincipalDep,
) -> dict[str, Any]:
    return accounts.set_org_role(platform, cache, who, user_id, body.org_role)
