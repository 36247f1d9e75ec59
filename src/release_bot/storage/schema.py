"""The schema as SQLAlchemy Core tables: flags, versions, releases, check states, history,
outbox, API access.

Core only, so that a command that just reads (`eval`, `release show`, `history`) never imports
the ORM; storage/tables.py maps the ORM classes of the write path onto these same tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)

from release_bot.storage.outbox import SLACK_TARGET, OutboxStatus
from release_bot.storage.timestamps import as_utc, utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class JSONDocument(TypeDecorator[Any]):
    """JSON, stored as JSONB on Postgres.

    The Postgres type is looked up when a Postgres connection needs it, so a CLI command on
    SQLite does not import SQLAlchemy's whole Postgres dialect to start.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """JSONB on Postgres, JSON elsewhere."""
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """UTC for the database; SQLite keeps no offset, so it gets the naive UTC wall time."""
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """An aware UTC datetime whatever the database handed back."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else as_utc(value)


metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _required(name: str, kind: Any, *args: Any, **options: Any) -> Column[Any]:
    """A NOT NULL column."""
    return Column(name, kind, *args, nullable=False, **options)


def _optional(name: str, kind: Any, *args: Any, **options: Any) -> Column[Any]:
    """A column that may be NULL."""
    return Column(name, kind, *args, nullable=True, **options)


flags = Table(
    "flags",
    metadata,
    Column("key", String(), primary_key=True),
    _required("kind", String()),
    _required("pipeline", String()),
    _required("salt", String()),
    _required("default_version", Integer()),
    _required("env_versions", JSONDocument()),
    _required("created_at", UTCDateTime(), default=utc_now),
)

flag_versions = Table(
    "flag_versions",
    metadata,
    Column("flag_key", String(), ForeignKey("flags.key"), primary_key=True),
    Column("number", Integer(), primary_key=True, autoincrement=False),
    _required("value", JSONDocument()),
    _required("created_at", UTCDateTime()),
    _required("created_by", String()),
)

# `revision` is the compare-and-swap version of every update (the ORM's version_id_col)
releases = Table(
    "releases",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    _required("flag_key", String(), ForeignKey("flags.key"), index=True),
    _optional("active_flag_key", String(), unique=True),
    _required("pipeline_name", String()),
    _required("pipeline", JSONDocument()),
    _required("from_version", Integer()),
    _required("to_version", Integer()),
    _required("triggered_by", String()),
    _required("created_at", UTCDateTime()),
    _required("state", String()),
    _required("phase", Integer()),
    _required("phase_statuses", JSONDocument()),
    _optional("bake_ends_at", UTCDateTime()),
    _optional("remaining_seconds", Double()),
    _required("approvals", JSONDocument()),
    _optional("ended_at", UTCDateTime()),
    _optional("awaiting_since", UTCDateTime()),
    _optional("remind_at", UTCDateTime()),
    _required("escalated", Boolean(), default=False, server_default=false()),
    _required("updated_at", UTCDateTime(), default=utc_now, onupdate=utc_now),
    _required("revision", Integer()),
    _optional("status_channel", String()),
    _optional("status_ts", String()),
    # the sweep's failures on this release in a row, the last error and when it tries again
    _required("sweep_failures", Integer(), default=0, server_default="0"),
    _optional("sweep_error", Text()),
    _optional("sweep_retry_at", UTCDateTime(), index=True),
    # when the bake's time ran out while a check of the phase held it
    _optional("held_since", UTCDateTime()),
    Index("ix_releases_state_bake_ends_at", "state", "bake_ends_at"),
    Index("ix_releases_state_remind_at", "state", "remind_at"),
)

# one check of one live phase of a release: its latest measurement and when it is due; written
# by the guardrail runner apart from the release's revision. `due_at` is also the claim (a
# runner pushes it a lease ahead while it measures) and is cleared when the release ends.
check_states = Table(
    "check_states",
    metadata,
    Column("release_id", Integer(), ForeignKey("releases.id"), primary_key=True),
    Column("phase", Integer(), primary_key=True, autoincrement=False),
    Column("name", String(), primary_key=True),
    _required("query", Text()),
    _optional("due_at", UTCDateTime(), index=True),
    _optional("verdict", String()),
    _optional("value", Double()),
    _optional("measured_at", UTCDateTime()),
    _required("failures", Integer(), default=0, server_default="0"),
    _required("blind", Integer(), default=0, server_default="0"),
    _optional("detail", Text()),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer(), primary_key=True),
    _required("flag_key", String(), ForeignKey("flags.key"), index=True),
    _optional("release_id", Integer(), ForeignKey("releases.id"), index=True),
    _required("at", UTCDateTime()),
    _required("actor", String()),
    _required("action", String()),
    _required("outcome", String()),
    _required("message", Text()),
    _optional("phase", Integer()),
    _optional("from_state", String()),
    _optional("to_state", String()),
    _optional("reason", Text()),
    _optional("rule", String()),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer(), primary_key=True),
    _required("release_id", Integer(), ForeignKey("releases.id"), index=True),
    # "slack", or the URL of the webhook endpoint the row is for
    _required("target", Text(), default=SLACK_TARGET, server_default=SLACK_TARGET),
    _optional("channel", String()),
    _required("kind", String()),
    _required("payload", JSONDocument()),
    _required("created_at", UTCDateTime()),
    _required("status", String(), default=OutboxStatus.PENDING.value,
              server_default=OutboxStatus.PENDING.value),
    _required("attempts", Integer(), default=0, server_default="0"),
    _optional("next_attempt_at", UTCDateTime()),
    _optional("last_error", Text()),
    _optional("sent_at", UTCDateTime()),
    _optional("claimed_by", String()),
    _optional("claimed_until", UTCDateTime()),
    Index("ix_outbox_status_id", "status", "id"),
    Index("ix_outbox_target_status_id", "target", "status", "id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("name", String(), primary_key=True),
    _required("secret_digest", String(), unique=True),
    _required("scopes", JSONDocument()),
    _required("created_at", UTCDateTime()),
    _required("created_by", String()),
    _optional("last_used_at", UTCDateTime()),
    _optional("revoked_at", UTCDateTime()),
)

# an Idempotency-Key of a start, once per owner: the primary key lets one of concurrent twins in
start_keys = Table(
    "start_keys",
    metadata,
    Column("owner", String(), primary_key=True),
    Column("key", String(), primary_key=True),
    _required("request", Text()),
    _optional("release_id", Integer(), ForeignKey("releases.id")),
    _required("created_at", UTCDateTime()),
)

# one row counting the commits that changed what the data plane serves: storage adds one in the
# same transaction as any change to flags, versions or releases, so every replica polls this
# one cheap row and reloads only when it moved
served_revision = Table(
    "served_revision",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    _required("revision", BigInteger()),
)
