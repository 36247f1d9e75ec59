"""Initial schema: flags, flag versions, releases, the history and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table of the initial schema."""
    op.create_table(
        "flags",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("salt", sa.String(), nullable=False),
        sa.Column("default_version", sa.Integer(), nullable=False),
        sa.Column("env_versions", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_flags"),
    )
    op.create_table(
        "flag_versions",
        sa.Column("flag_key", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_key"], ["flags.key"], name="fk_flag_versions_flag_key_flags"
        ),
        sa.PrimaryKeyConstraint("flag_key", "number", name="pk_flag_versions"),
    )
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flag_key", sa.String(), nullable=False),
        sa.Column("active_flag_key", sa.String(), nullable=True),
        sa.Column("pipeline_name", sa.String(), nullable=False),
        sa.Column("pipeline", JSON_DOCUMENT, nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("triggered_by", sa.String(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("phase_statuses", JSON_DOCUMENT, nullable=False),
        sa.Column("bake_ends_at", TIMESTAMP, nullable=True),
        sa.Column("remaining_seconds", sa.Double(), nullable=True),
        sa.Column("approvals", JSON_DOCUMENT, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("awaiting_since", TIMESTAMP, nullable=True),
        sa.Column("remind_at", TIMESTAMP, nullable=True),
        sa.Column("escalated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status_channel", sa.String(), nullable=True),
        sa.Column("status_ts", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["flag_key"], ["flags.key"], name="fk_releases_flag_key_flags"),
        sa.PrimaryKeyConstraint("id", name="pk_releases"),
        sa.UniqueConstraint("active_flag_key", name="uq_releases_active_flag_key"),
    )
    op.create_index("ix_releases_flag_key", "releases", ["flag_key"])
    op.create_index("ix_releases_state_bake_ends_at", "releases", ["state", "bake_ends_at"])
    op.create_index("ix_releases_state_remind_at", "releases", ["state", "remind_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_key", sa.String(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=True),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rule", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["flag_key"], ["flags.key"], name="fk_events_flag_key_flags"),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name="fk_events_release_id_releases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_flag_key", "events", ["flag_key"])
    op.create_index("ix_events_release_id", "events", ["release_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name="fk_outbox_release_id_releases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_release_id", "outbox", ["release_id"])
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])


def downgrade() -> None:
    """Drop every table of the initial schema (and with them all data)."""
    for table in ("outbox", "events", "releases", "flag_versions", "flags"):
        op.drop_table(table)
