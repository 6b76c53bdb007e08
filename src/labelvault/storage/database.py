"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL, synchronous=NORMAL, a busy timeout, one writer connection (writes in this process
queue on it instead of spinning on SQLITE_BUSY) taking BEGIN IMMEDIATE, and a pool of readers.
PostgreSQL: one pooled engine; row locks (FOR UPDATE SKIP LOCKED) keep the queue correct
across any number of app processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool

from labelvault.errors import ServiceUnavailable

#: Set by callers that must not block (the server's event loop): a write that would have
#: to wait for SQLite's single writer raises WriterBusy instead, before doing anything.
NO_WAIT: contextvars.ContextVar[bool] = contextvars.ContextVar("labelvault_no_wait", default=False)


class WriterBusy(Exception):
    """The SQLite writer is taken; retry the same call where waiting is allowed."""


def now_ms() -> int:
    """Current time as integer epoch milliseconds, the unit of every stored timestamp."""
    return int(time.time() * 1000)


class Database:
    """Owns the engines; hands out write and read transactions."""

    def __init__(self, url: str, *, sqlite_readers: int = 8, echo: bool = False) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self._write_lock = threading.Lock()
        if self.dialect == "sqlite":
            self._writer = self._sqlite_engine(pool_size=1, echo=echo, writer=True)
            self._reader = self._sqlite_engine(pool_size=sqlite_readers, echo=echo, writer=False)
        elif self.dialect == "postgresql":
            if self.url.drivername == "postgresql":
                self.url = self.url.set(drivername="postgresql+psycopg")
            self._writer = create_engine(
                self.url, pool_size=16, max_overflow=16, pool_recycle=1800, echo=echo
            )
            self._reader = self._writer
        else:
            raise ServiceUnavailable(
                f"unsupported database {self.dialect!r}",
                hint="use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB",
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def engine(self) -> Engine:
        """The engine that may write (migrations, admin tasks)."""
        return self._writer

    def _sqlite_engine(self, *, pool_size: int, echo: bool, writer: bool) -> Engine:
        database = self.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=60,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy drive transactions explicitly (see _on_begin).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Page cache per connection (KiB): generous for the one writer, small for the
            # readers, so a long export scan cannot grow the process by much.
            cur.execute(f"PRAGMA cache_size=-{65536 if writer else 8192}")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

        return engine

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One read-write transaction; commits on success, rolls back on any exception.

        On SQLite, writers of this process queue on a lock in front of the one writer
        connection; under NO_WAIT a taken writer raises WriterBusy instead of waiting.
        """
        if not self.is_sqlite:
            with self._writer.begin() as conn:
                yield conn
            return
        if not self._write_lock.acquire(blocking=not NO_WAIT.get()):
            raise WriterBusy
        try:
            with self._writer.begin() as conn:
                yield conn
        finally:
            self._write_lock.release()

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only snapshot (a separate pool on SQLite, so reads never wait on writes)."""
        with self._reader.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self._writer.dispose()
        if self._reader is not self._writer:
            self._reader.dispose()
