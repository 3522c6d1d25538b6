"""ticket people indexes: the assignee and the reporter, each on its own index

The ticket list sorts by assignee, and the CSV export reads the distinct names of both
columns from these indexes to check them once per export instead of once per row
(docs/export.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:00:00.000000
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_assignee", "tickets", ["assignee"])
    op.create_index("ix_tickets_reported_by", "tickets", ["reported_by"])


def downgrade() -> None:
    op.drop_index("ix_tickets_reported_by", table_name="tickets")
    op.drop_index("ix_tickets_assignee", table_name="tickets")
