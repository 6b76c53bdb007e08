"""Alembic environment: runs on the connection handed over by labelvault.storage.migrate."""

from __future__ import annotations

from alembic import context

from labelvault.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` CLI use without labelvault
    raise RuntimeError("run migrations with `labelvault admin migrate`, not bare alembic")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
