"""Indexes for paging a project's items and their answers in id order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_project", "items", ["project_id", "id"])
    op.create_index("ix_assignments_project_item", "assignments", ["project_id", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_assignments_project_item", table_name="assignments")
    op.drop_index("ix_items_project", table_name="items")
