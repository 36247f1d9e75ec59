"""Guardrail checks: the state of each check of a live phase, and a release's bake hold.

Revision ID: 0005_checks
Revises: 0004_webhooks
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_checks"
down_revision: str | None = "0004_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add check_states, and releases.held_since."""
    op.create_table(
        "check_states",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict", sa.String(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("blind", sa.Integer(), server_default="0", nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"],
                                name="fk_check_states_release_id_releases"),
        sa.PrimaryKeyConstraint("release_id", "phase", "name", name="pk_check_states"),
    )
    op.create_index("ix_check_states_due_at", "check_states", ["due_at"])
    with op.batch_alter_table("releases") as batch:
        batch.add_column(sa.Column("held_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Undo: drop check_states and releases.held_since."""
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("held_since")
    op.drop_index("ix_check_states_due_at", table_name="check_states")
    op.drop_table("check_states")
