"""The served revision: one row counting the commits that changed what the data plane serves.

Revision ID: 0006_data_plane
Revises: 0005_checks
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_data_plane"
down_revision: str | None = "0005_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the counter with its one row at zero."""
    table = op.create_table(
        "served_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_served_revision")),
    )
    op.bulk_insert(table, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    """Undo: drop the counter."""
    op.drop_table("served_revision")
