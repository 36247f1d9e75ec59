"""ORM classes of the write path, mapped onto the Core tables of storage/schema.py.

The ORM brings the compare-and-swap on a release's revision (`version_id_col`) and the unit of
work; the annotations only type the attributes, the columns are the schema's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped

from release_bot.storage import schema


class Base(DeclarativeBase):
    """Declarative base over the schema's metadata."""

    metadata = schema.metadata


class FlagRow(Base):
    """A feature gate or dynamic config and its base version per environment."""

    __table__ = schema.flags

    key: Mapped[str]
    kind: Mapped[str]
    pipeline: Mapped[str]
    salt: Mapped[str]
    default_version: Mapped[int]
    env_versions: Mapped[dict[str, int]]
    created_at: Mapped[datetime]


class FlagVersionRow(Base):
    """An immutable numbered value of a flag."""

    __table__ = schema.flag_versions

    flag_key: Mapped[str]
    number: Mapped[int]
    value: Mapped[Any]
    created_at: Mapped[datetime]
    created_by: Mapped[str]


class ReleaseRow(Base):
    """One run of a pipeline; `revision` is the compare-and-swap version of every update."""

    __table__ = schema.releases
    __mapper_args__ = {"version_id_col": schema.releases.c.revision}

    id: Mapped[int]
    flag_key: Mapped[str]
    active_flag_key: Mapped[str | None]
    pipeline_name: Mapped[str]
    pipeline: Mapped[dict[str, Any]]
    from_version: Mapped[int]
    to_version: Mapped[int]
    triggered_by: Mapped[str]
    created_at: Mapped[datetime]
    state: Mapped[str]
    phase: Mapped[int]
    phase_statuses: Mapped[list[str]]
    bake_ends_at: Mapped[datetime | None]
    remaining_seconds: Mapped[float | None]
    approvals: Mapped[list[dict[str, Any]]]
    ended_at: Mapped[datetime | None]
    awaiting_since: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    escalated: Mapped[bool]
    updated_at: Mapped[datetime]
    revision: Mapped[int]
    status_channel: Mapped[str | None]
    status_ts: Mapped[str | None]
    sweep_failures: Mapped[int]
    sweep_error: Mapped[str | None]
    sweep_retry_at: Mapped[datetime | None]
    held_since: Mapped[datetime | None]


class CheckStateRow(Base):
    """One check of one live phase of a release (see schema.check_states)."""

    __table__ = schema.check_states

    release_id: Mapped[int]
    phase: Mapped[int]
    name: Mapped[str]
    query: Mapped[str]
    due_at: Mapped[datetime | None]
    verdict: Mapped[str | None]
    value: Mapped[float | None]
    measured_at: Mapped[datetime | None]
    failures: Mapped[int]
    blind: Mapped[int]
    detail: Mapped[str | None]


class EventRow(Base):
    """One row of the append-only history."""

    __table__ = schema.events

    id: Mapped[int]
    flag_key: Mapped[str]
    release_id: Mapped[int | None]
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    outcome: Mapped[str]
    message: Mapped[str]
    phase: Mapped[int | None]
    from_state: Mapped[str | None]
    to_state: Mapped[str | None]
    reason: Mapped[str | None]
    rule: Mapped[str | None]


class OutboxRow(Base):
    """A notification written with the state change that caused it, delivered after commit."""

    __table__ = schema.outbox

    id: Mapped[int]
    release_id: Mapped[int]
    target: Mapped[str]
    channel: Mapped[str | None]
    kind: Mapped[str]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    status: Mapped[str]
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None]
    claimed_until: Mapped[datetime | None]
