"""Shared fixtures: every storage-backed test runs on SQLite and, when
LABELVAULT_TEST_POSTGRES_URL is set, on a real PostgreSQL too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from labelvault.config import Settings

PG_URL = os.environ.get("LABELVAULT_TEST_POSTGRES_URL")
REPO = Path(__file__).resolve().parents[1]


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A throwaway PostgreSQL database for this test session (dropped at the end)."""
    if not PG_URL:
        yield None
        return
    base = make_url(PG_URL)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"lv_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


_TABLES = (
    "audit_log",
    "audit_chains",
    "assignments",
    "items",
    "project_members",
    "project_keys",
    "project_schemas",
    "projects",
    "api_tokens",
    "users",
    "orgs",
)


@pytest.fixture(params=_backends())
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None
) -> Iterator[str]:
    """A database URL with an empty schema; parametrized over the available backends."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'labelvault.db'}"
        return
    assert pg_database is not None
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.orgs')")).scalar()
        if exists:
            conn.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield pg_database


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path, db_url=db_url, token_cache_seconds=0)


@pytest.fixture
def platform(settings: Settings):  # type: ignore[no-untyped-def]
    from labelvault.services import queue, setup

    queue.RECLAIM_EVERY_S = 0.0
    platform = setup.prepare(settings)
    yield platform
    platform.close()


@pytest.fixture
def app(platform):  # type: ignore[no-untyped-def]
    from labelvault.server.app import create_app

    return create_app(platform=platform)


@pytest.fixture
def world(app, platform):  # type: ignore[no-untyped-def]
    """Two orgs with owners, plus helpers to make users and authenticated clients."""
    from tests.helpers import World

    return World(app, platform)
