"""SQLAlchemy tables: flags, their versions, releases, the history and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    MetaData,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from release_bot.storage.outbox import OutboxStatus
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


JSON_DOCUMENT = JSONDocument()


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


class Base(DeclarativeBase):
    """Declarative base with named constraints and UTC datetimes."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class FlagRow(Base):
    """A feature gate or dynamic config and its base version per environment."""

    __tablename__ = "flags"

    key: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str]
    pipeline: Mapped[str]
    salt: Mapped[str]
    default_version: Mapped[int]
    env_versions: Mapped[dict[str, int]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class FlagVersionRow(Base):
    """An immutable numbered value of a flag."""

    __tablename__ = "flag_versions"

    flag_key: Mapped[str] = mapped_column(ForeignKey("flags.key"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[Any] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime]
    created_by: Mapped[str]


class ReleaseRow(Base):
    """One run of a pipeline; `revision` is the compare-and-swap version of every update."""

    __tablename__ = "releases"
    __table_args__ = (
        Index("ix_releases_state_bake_ends_at", "state", "bake_ends_at"),
        Index("ix_releases_state_remind_at", "state", "remind_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    flag_key: Mapped[str] = mapped_column(ForeignKey("flags.key"), index=True)
    active_flag_key: Mapped[str | None] = mapped_column(unique=True)
    pipeline_name: Mapped[str]
    pipeline: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    from_version: Mapped[int]
    to_version: Mapped[int]
    triggered_by: Mapped[str]
    created_at: Mapped[datetime]
    state: Mapped[str]
    phase: Mapped[int]
    phase_statuses: Mapped[list[str]] = mapped_column(JSON_DOCUMENT)
    bake_ends_at: Mapped[datetime | None]
    remaining_seconds: Mapped[float | None] = mapped_column(Double())
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON_DOCUMENT)
    ended_at: Mapped[datetime | None]
    awaiting_since: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    escalated: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    revision: Mapped[int] = mapped_column()
    status_channel: Mapped[str | None]
    status_ts: Mapped[str | None]
    # the sweep's failures on this release in a row, the last error and when it tries again
    sweep_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    sweep_error: Mapped[str | None] = mapped_column(Text)
    sweep_retry_at: Mapped[datetime | None] = mapped_column(index=True)

    __mapper_args__ = {"version_id_col": revision}


class EventRow(Base):
    """One row of the append-only history."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_key: Mapped[str] = mapped_column(ForeignKey("flags.key"), index=True)
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    outcome: Mapped[str]
    message: Mapped[str] = mapped_column(Text)
    phase: Mapped[int | None]
    from_state: Mapped[str | None]
    to_state: Mapped[str | None]
    reason: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str | None]


class OutboxRow(Base):
    """A notification written with the state change that caused it, delivered after commit."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    channel: Mapped[str | None]
    kind: Mapped[str]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(
        default=OutboxStatus.PENDING.value, server_default=OutboxStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None]
    claimed_until: Mapped[datetime | None]


class ServedRevisionRow(Base):
    """One row counting the commits that changed what the data plane serves.

    Storage adds one in the same transaction as any change to flags, versions or releases, so
    every replica can poll this one cheap row and reload only when it moves.
    """

    __tablename__ = "served_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
