"""Outbox rows per target: Slack, or a webhook endpoint's URL, each claimed by its own worker.

Revision ID: 0004_webhooks
Revises: 0003_api
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_webhooks"
down_revision: str | None = "0003_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the outbox's target column (every existing row is for Slack) and its claim index."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("target", sa.Text(), server_default="slack", nullable=False))
    op.create_index("ix_outbox_target_status_id", "outbox", ["target", "status", "id"])


def downgrade() -> None:
    """Undo: drop the webhook rows, the index and the target column."""
    op.execute("DELETE FROM outbox WHERE target <> 'slack'")
    op.drop_index("ix_outbox_target_status_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("target")
