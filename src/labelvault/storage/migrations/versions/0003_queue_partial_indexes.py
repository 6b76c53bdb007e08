"""Partial indexes for the queue: fresh items, and live leases by expiry.

They keep `next` and the lease sweep on an index even when the planner's statistics are
stale (right after a bulk import, or while assignments grow from empty).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_items_fresh",
        "items",
        ["project_id", "id"],
        sqlite_where=sa.text("slots_used = 0"),
        postgresql_where=sa.text("slots_used = 0"),
    )
    op.create_index(
        "ix_assignments_live_leases",
        "assignments",
        ["project_id", "lease_expires_at"],
        sqlite_where=sa.text("status = 'leased'"),
        postgresql_where=sa.text("status = 'leased'"),
    )
    op.drop_index("ix_assignments_leases", table_name="assignments")


def downgrade() -> None:
    op.create_index(
        "ix_assignments_leases", "assignments", ["project_id", "status", "lease_expires_at"]
    )
    op.drop_index("ix_assignments_live_leases", table_name="assignments")
    op.drop_index("ix_items_fresh", table_name="items")
