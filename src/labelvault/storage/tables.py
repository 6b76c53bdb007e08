"""SQLAlchemy Core tables: the one description of the schema (migrations derive from it).

Conventions: every tenant row carries org_id; times are integer epoch milliseconds (cheap to
compare and index on both SQLite and PostgreSQL); confidential columns hold ciphertext
(LargeBinary) produced by labelvault.crypto and are never readable without the project's key.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# BigInteger autoincrement is only honoured as INTEGER PRIMARY KEY on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

orgs = Table(
    "orgs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("orgs.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=True),
    Column("org_role", String(20), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger, nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("orgs.id"), nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("orgs.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("schema_version", Integer, nullable=False),
    Column("overlap", Integer, nullable=False),
    Column("lease_seconds", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
)

project_schemas = Table(
    "project_schemas",
    metadata,
    Column("project_id", ForeignKey("projects.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("org_id", ForeignKey("orgs.id"), nullable=False),
    Column("schema_json", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

project_keys = Table(
    "project_keys",
    metadata,
    Column("project_id", ForeignKey("projects.id"), primary_key=True),
    Column("org_id", ForeignKey("orgs.id"), nullable=False),
    Column("kek_id", String(100), nullable=False),
    Column("wrapped_dek", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

project_members = Table(
    "project_members",
    metadata,
    Column("project_id", ForeignKey("projects.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("org_id", ForeignKey("orgs.id"), nullable=False),
    Column("role", String(20), nullable=False),
    Index("ix_project_members_user", "user_id"),
)

items = Table(
    "items",
    metadata,
    Column("id", Id, Sequence("items_id_seq"), primary_key=True, autoincrement=False),
    Column("org_id", BigInteger, nullable=False),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("external_id", String(256), nullable=True),
    Column("payload", LargeBinary, nullable=False),
    Column("slots_used", Integer, nullable=False, server_default=text("0")),
    Column("created_at", BigInteger, nullable=False),
    # The work queue: fullest unfinished items first, so items complete instead of all
    # sitting half-labelled; within a fill level, oldest first.
    Index("ix_items_queue", "project_id", text("slots_used DESC"), "id"),
    # Paging through a project's items in id order (listing, export).
    Index("ix_items_project", "project_id", "id"),
    Index(
        "uq_items_external",
        "project_id",
        "external_id",
        unique=True,
        sqlite_where=text("external_id IS NOT NULL"),
        postgresql_where=text("external_id IS NOT NULL"),
    ),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", BigInteger, nullable=False),
    Column("project_id", BigInteger, nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("annotator_id", BigInteger, nullable=False),
    # leased | submitted | skipped | expired
    Column("status", String(12), nullable=False),
    Column("leased_at", BigInteger, nullable=False),
    Column("lease_expires_at", BigInteger, nullable=False),
    Column("submitted_at", BigInteger, nullable=True),
    Column("schema_version", Integer, nullable=True),
    Column("answer", LargeBinary, nullable=True),
    Column("skip_reason", LargeBinary, nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    # An annotator never holds the same item twice: the database enforces it.
    UniqueConstraint("item_id", "annotator_id", name="uq_assignments_item_annotator"),
    # Live leases by expiry, for the sweep that returns expired ones to the queue.
    Index(
        "ix_assignments_live_leases",
        "project_id",
        "lease_expires_at",
        sqlite_where=text("status = 'leased'"),
        postgresql_where=text("status = 'leased'"),
    ),
    Index("ix_assignments_annotator", "annotator_id", "project_id", "status"),
    # The answers of a range of a project's items (export pages, item views).
    Index("ix_assignments_project_item", "project_id", "item_id"),
)

audit_chains = Table(
    "audit_chains",
    metadata,
    Column("org_id", ForeignKey("orgs.id"), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("head", LargeBinary, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", BigInteger, nullable=False),
    Column("shard", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor_id", BigInteger, nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("detail", Text, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    UniqueConstraint("org_id", "shard", "seq", name="uq_audit_log_chain"),
)
