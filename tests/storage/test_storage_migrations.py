"""Alembic: one head, every revision upgrades step by step, and the tables match the code."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from labelvault.storage import migrate
from labelvault.storage.database import Database
from labelvault.storage.tables import metadata


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1


def test_upgrade_one_revision_at_a_time_reaches_a_schema_equal_to_the_code(db_url):
    db = Database(db_url)
    try:
        script = ScriptDirectory.from_config(migrate.alembic_config())
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        migrate.upgrade(db)
        migrate.downgrade(db, "base")  # the shared PostgreSQL test database may be at head
        assert migrate.current_revision(db) is None
        for revision in revisions:
            migrate.upgrade(db, revision)
            assert migrate.current_revision(db) == revision
        assert migrate.current_revision(db) == migrate.head_revision()
        migrate.upgrade(db)  # idempotent at head
        indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("items")}
        assert {"ix_items_queue", "ix_items_project", "uq_items_external"} <= indexes
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        # Expression indexes (slots_used DESC) cannot be reflected; nothing else may differ.
        assert [d for d in diff if "ix_items_queue" not in str(d)] == []
    finally:
        db.dispose()
