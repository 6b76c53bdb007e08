"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from labelvault import __version__
from labelvault.config import Settings
from labelvault.server import problems
from labelvault.server.api import identity, items, projects, queue, reports
from labelvault.server.limits import BodyLimit
from labelvault.services.accounts import TokenCache
from labelvault.services.context import Platform

API_PREFIX = "/api/v1"
THREADS = 4


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    """Build the app. Settings are read here, once, never at import time."""
    settings = settings or (platform.settings if platform else Settings())
    owned = platform is None
    platform = platform or Platform.open(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Fewer worker threads than anyio's default 40: SQLite has one writer, and every
        # extra thread waiting on it costs GIL hand-offs on each request.
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield
        if owned:
            platform.close()

    app = FastAPI(
        title="labelvault",
        version=__version__,
        description="Self-hosted, confidential human data work: labeling, review, "
        "preference collection and evaluation.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        # No telemetry of any kind, not even to a local OpenTelemetry provider; it also
        # costs a check on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.platform = platform
    app.state.token_cache = TokenCache(settings.token_cache_seconds)
    problems.install(app)
    for module in (identity, projects, items, queue, reports):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(
        BodyLimit, json_limit=settings.max_json_body_bytes, import_limit=settings.max_import_bytes
    )
    return app
