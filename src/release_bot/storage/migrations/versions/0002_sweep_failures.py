"""Sweep failures on releases: how many in a row, the last error and the next try.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the sweep's bookkeeping columns to releases, and an index to find retries due."""
    with op.batch_alter_table("releases") as batch:
        batch.add_column(
            sa.Column("sweep_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("sweep_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sweep_retry_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_releases_sweep_retry_at", "releases", ["sweep_retry_at"])


def downgrade() -> None:
    """Undo: drop the sweep's bookkeeping columns."""
    op.drop_index("ix_releases_sweep_retry_at", table_name="releases")
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("sweep_retry_at")
        batch.drop_column("sweep_error")
        batch.drop_column("sweep_failures")
