"""Who is asking, and the long-lived things every use case needs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Connection

from labelvault.config import Settings
from labelvault.crypto import DataKey, KeyProvider, LocalKeyFileProvider
from labelvault.domain.roles import OrgRole, is_org_admin
from labelvault.errors import NotFound
from labelvault.storage import projects as project_store
from labelvault.storage.database import NO_WAIT, Database, WriterBusy

__all__ = ["NO_WAIT", "Platform", "Principal", "WriterBusy", "key_context"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user acting within their org."""

    user_id: int
    org_id: int
    email: str
    org_role: OrgRole

    @property
    def is_org_admin(self) -> bool:
        return is_org_admin(self.org_role)


@dataclass
class Platform:
    """Database, key provider and settings, shared by all services of one process.

    Unwrapped project data keys are cached in memory (never on disk) so the hot paths do
    not call the key provider per request; deleting a project drops its key from the cache.
    """

    settings: Settings
    db: Database
    keys: KeyProvider
    _deks: dict[int, DataKey] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings) -> Platform:
        db = Database(settings.resolved_db_url(), sqlite_readers=settings.sqlite_readers)
        keys = LocalKeyFileProvider(settings.resolved_key_file())
        return cls(settings=settings, db=db, keys=keys)

    def data_key(self, conn: Connection, project_id: int) -> DataKey:
        """The project's data key, unwrapped once per process."""
        key = self._deks.get(project_id)
        if key is not None:
            return key
        stored = project_store.load_key(conn, project_id)
        if stored is None:
            raise NotFound(
                f"project {project_id} has no data key: it was deleted",
                hint="deleted projects are crypto-shredded and cannot be read",
            )
        kek_id, wrapped = stored
        raw = self.keys.unwrap(kek_id, wrapped, context=key_context(project_id))
        key = DataKey(raw)
        with self._lock:
            self._deks[project_id] = key
        return key

    def forget_key(self, project_id: int) -> None:
        with self._lock:
            self._deks.pop(project_id, None)

    def close(self) -> None:
        self.db.dispose()


def key_context(project_id: int) -> bytes:
    """Associated data binding a wrapped data key to its project."""
    return f"labelvault:project:{project_id}".encode()
