"""Request-scoped dependencies: the platform and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from labelvault.services import accounts
from labelvault.services.context import Platform, Principal

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer lv_...`")


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_token_cache(request: Request) -> accounts.TokenCache:
    cache: accounts.TokenCache = request.app.state.token_cache
    return cache


def current_principal(
    platform: Annotated[Platform, Depends(get_platform)],
    cache: Annotated[accounts.TokenCache, Depends(get_token_cache)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials else None
    return accounts.authenticate(platform, cache, token)


PlatformDep = Annotated[Platform, Depends(get_platform)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
TokenCacheDep = Annotated[accounts.TokenCache, Depends(get_token_cache)]
