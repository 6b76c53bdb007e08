"""Request-scoped dependencies: the platform and the authenticated principal.

They are async on purpose: a sync dependency costs a thread-pool hop per request, and the
common case (a token verified moments ago) needs no I/O at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from labelvault.crypto import token_digest
from labelvault.services import accounts
from labelvault.services.context import NO_WAIT, Platform, Principal, WriterBusy

T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer lv_...`")


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def get_token_cache(request: Request) -> accounts.TokenCache:
    cache: accounts.TokenCache = request.app.state.token_cache
    return cache


async def current_principal(
    platform: Annotated[Platform, Depends(get_platform)],
    cache: Annotated[accounts.TokenCache, Depends(get_token_cache)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials else None
    if token:
        cached = cache.get(token_digest(token))
        if cached is not None:
            return cached
    return await run_in_threadpool(accounts.authenticate, platform, cache, token)


def json_response(body: Any, status_code: int = 200) -> Response:
    """A JSON response serialized by orjson, for the hot endpoints."""
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


PlatformDep = Annotated[Platform, Depends(get_platform)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
TokenCacheDep = Annotated[accounts.TokenCache, Depends(get_token_cache)]


async def run_write(platform: Platform, fn: Callable[..., T], *args: Any) -> T:
    """Run a short write use case, on the event loop when that cannot block.

    A thread-pool hop costs more than a short SQLite transaction, so on SQLite the call
    runs inline when the single writer is free; if it is taken (an import, another
    request), the same call goes to the thread pool, where waiting is fine. WriterBusy is
    raised before the call has done anything, so the retry is safe. PostgreSQL calls
    always use the thread pool (they wait on the network and on row locks).
    """
    if platform.db.is_sqlite:
        token = NO_WAIT.set(True)
        try:
            return fn(*args)
        except WriterBusy:
            pass
        finally:
            NO_WAIT.reset(token)
    return await run_in_threadpool(fn, *args)
