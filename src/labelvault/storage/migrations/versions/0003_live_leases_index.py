"""A partial index of live leases by expiry, for the sweep that frees expired ones.

It keeps the sweep on an index even when the planner's statistics are stale (right after
a bulk import, or while assignments grow from empty).

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
