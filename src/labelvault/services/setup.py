"""Bringing an installation up: data directory, master key, schema migrations."""

from __future__ import annotations

from labelvault.config import Settings
from labelvault.crypto import LocalKeyFileProvider
from labelvault.services.context import Platform
from labelvault.storage import migrate
from labelvault.storage.database import Database


def ensure_key_file(settings: Settings) -> LocalKeyFileProvider:
    path = settings.resolved_key_file()
    if path.exists():
        return LocalKeyFileProvider(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return LocalKeyFileProvider.create(path)


def prepare(settings: Settings) -> Platform:
    """Open an installation, creating the key file and upgrading the schema if needed."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = ensure_key_file(settings)
    db = Database(settings.resolved_db_url(), sqlite_readers=settings.sqlite_readers)
    migrate.upgrade(db)
    return Platform(settings=settings, db=db, keys=keys)
