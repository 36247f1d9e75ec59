"""Repositories over one SQLAlchemy session, implementing the core's storage ports."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.orm import Session

from release_bot.core.errors import ConcurrentUpdate, NotFound
from release_bot.core.models import Event, Flag, Notification, Release, ReleaseState, Version
from release_bot.core.sentences import say
from release_bot.storage.conflicts import races_as_concurrent_updates
from release_bot.storage.mapping import (
    event_from_row,
    event_values,
    flag_from_row,
    flag_values,
    outbox_message,
    outbox_values,
    release_from_row,
    release_values,
    version_from_row,
    version_values,
)
from release_bot.storage.outbox import OutboxMessage, OutboxStatus
from release_bot.storage.tables import EventRow, FlagRow, FlagVersionRow, OutboxRow, ReleaseRow


def flush(session: Session) -> None:
    """Send pending changes now, so races surface here as ConcurrentUpdate."""
    with races_as_concurrent_updates():
        session.flush()


class SqlFlagRepository:
    """Flags and their immutable versions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> Flag | None:
        """The flag with this key, or None."""
        row = self.session.get(FlagRow, key)
        return None if row is None else flag_from_row(row)

    def add(self, flag: Flag) -> None:
        """Store a new flag (flushed at once: versions, releases and events refer to it)."""
        self.session.add(FlagRow(**flag_values(flag)))
        flush(self.session)

    def save(self, flag: Flag) -> None:
        """Store a changed flag (its base versions)."""
        row = self.session.get(FlagRow, flag.key)
        if row is None:
            raise NotFound(say("There is no flag {key:flag}.", key=flag.key))
        for column, value in flag_values(flag).items():
            setattr(row, column, value)

    def list(self) -> Sequence[Flag]:
        """Every flag, by key."""
        rows = self.session.scalars(select(FlagRow).order_by(FlagRow.key))
        return [flag_from_row(row) for row in rows]

    def add_version(self, key: str, version: Version) -> None:
        """Store a new immutable version of a flag."""
        self.session.add(FlagVersionRow(**version_values(key, version)))

    def versions(self, key: str) -> dict[int, Version]:
        """Every version of a flag by number."""
        rows = self.session.scalars(
            select(FlagVersionRow)
            .where(FlagVersionRow.flag_key == key)
            .order_by(FlagVersionRow.number)
        )
        return {row.number: version_from_row(row) for row in rows}


class SqlReleaseRepository:
    """Releases, saved with a compare-and-swap on their revision."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._loaded: dict[int, ReleaseRow] = {}

    def get(self, release_id: int) -> Release | None:
        """The release with this id, or None; its row is kept for the compare-and-swap."""
        row = self.session.get(ReleaseRow, release_id)
        if row is None:
            return None
        self._loaded[release_id] = row
        return release_from_row(row)

    def add(self, release: Release) -> Release:
        """Store a new release and return it with its id and first revision."""
        row = ReleaseRow(**release_values(release))
        self.session.add(row)
        flush(self.session)
        return replace(release, id=row.id, revision=row.revision)

    def save(self, release: Release) -> Release:
        """Store a changed release unless it changed since read (else ConcurrentUpdate)."""
        if release.id is None:
            raise ValueError("This release was never stored: add it before saving it.")
        row = self._loaded.get(release.id) or self.session.get(ReleaseRow, release.id)
        if row is None:
            raise NotFound(f"There is no release #{release.id}.")
        if row.revision != release.revision:
            raise ConcurrentUpdate(
                f"Release #{release.id} changed since it was read (revision {release.revision} "
                f"was read, {row.revision} is stored) — look at where it stands now and retry."
            )
        for column, value in release_values(release).items():
            setattr(row, column, value)
        # The UPDATE ... WHERE revision = read goes out with the commit's flush; a lost race
        # surfaces there as ConcurrentUpdate. SQLAlchemy's version counter adds one.
        return replace(release, revision=release.revision + 1)

    def active_for_flag(self, key: str) -> Release | None:
        """The flag's active release, or None."""
        row = self.session.scalars(
            select(ReleaseRow).where(ReleaseRow.active_flag_key == key)
        ).one_or_none()
        return None if row is None else release_from_row(row)

    def list(self, *, active_only: bool = False, flag_key: str | None = None) -> Sequence[Release]:
        """Releases, newest first."""
        query = select(ReleaseRow).order_by(ReleaseRow.id.desc())
        if active_only:
            query = query.where(ReleaseRow.active_flag_key.is_not(None))
        if flag_key is not None:
            query = query.where(ReleaseRow.flag_key == flag_key)
        return [release_from_row(row) for row in self.session.scalars(query)]

    def due(self, now: datetime, limit: int) -> Sequence[Release]:
        """Up to `limit` baking releases whose bake timer has ended at now, earliest first."""
        query = (
            select(ReleaseRow)
            .where(ReleaseRow.state == ReleaseState.BAKING.value, ReleaseRow.bake_ends_at <= now)
            .order_by(ReleaseRow.bake_ends_at, ReleaseRow.id)
            .limit(limit)
        )
        return self._load(query)

    def reminders_due(self, now: datetime, limit: int) -> Sequence[Release]:
        """Up to `limit` releases awaiting approval whose reminder is due at now."""
        query = (
            select(ReleaseRow)
            .where(
                ReleaseRow.state == ReleaseState.AWAITING_APPROVAL.value,
                ReleaseRow.remind_at <= now,
            )
            .order_by(ReleaseRow.remind_at, ReleaseRow.id)
            .limit(limit)
        )
        return self._load(query)

    def next_due(self) -> datetime | None:
        """The earliest bake end or reminder of any release (two index lookups), or None."""
        bake = self.session.scalar(
            select(func.min(ReleaseRow.bake_ends_at)).where(
                ReleaseRow.state == ReleaseState.BAKING.value
            )
        )
        remind = self.session.scalar(
            select(func.min(ReleaseRow.remind_at)).where(
                ReleaseRow.state == ReleaseState.AWAITING_APPROVAL.value
            )
        )
        return min((t for t in (bake, remind) if t is not None), default=None)

    def _load(self, query: Select[ReleaseRow]) -> builtins.list[Release]:
        """Releases of a query, their rows kept for the compare-and-swap."""
        rows = builtins.list(self.session.scalars(query))
        self._loaded.update((row.id, row) for row in rows)
        return [release_from_row(row) for row in rows]


class InsertBuffer:
    """Append-only rows of one transaction, written as one multi-row INSERT per table."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[type[EventRow] | type[OutboxRow], list[dict[str, Any]]] = {}

    def add(self, table: type[EventRow] | type[OutboxRow], values: dict[str, Any]) -> None:
        """Keep a row for the next write()."""
        self.rows.setdefault(table, []).append(values)

    def write(self) -> None:
        """INSERT what was kept; the autoflush before it may surface a lost race."""
        with races_as_concurrent_updates():
            for table, rows in self.rows.items():
                self.session.execute(insert(cast(Table, table.__table__)), rows)
        self.rows.clear()

    def discard(self) -> None:
        """Forget what was kept (the transaction rolls back)."""
        self.rows.clear()


class SqlHistoryRepository:
    """The append-only history: rows are added, never changed."""

    def __init__(self, session: Session, inserts: InsertBuffer) -> None:
        self.session = session
        self.inserts = inserts

    def append(self, event: Event) -> None:
        """Add one event (written with the transaction's other rows, no id fetched back)."""
        self.inserts.add(EventRow, event_values(event))

    def for_flag(self, key: str) -> Sequence[Event]:
        """A flag's events, oldest first."""
        self.inserts.write()
        query = select(EventRow).where(EventRow.flag_key == key).order_by(EventRow.id)
        return [event_from_row(row) for row in self.session.scalars(query)]

    def for_release(self, release_id: int) -> Sequence[Event]:
        """A release's events, oldest first."""
        self.inserts.write()
        query = select(EventRow).where(EventRow.release_id == release_id).order_by(EventRow.id)
        return [event_from_row(row) for row in self.session.scalars(query)]


class SqlOutbox:
    """Notifications written in the same transaction as the change that caused them."""

    def __init__(self, session: Session, inserts: InsertBuffer) -> None:
        self.session = session
        self.inserts = inserts

    def put(self, release_id: int, channel: str | None, notification: Notification,
            now: datetime) -> None:
        """Queue one notification for delivery after commit."""
        self.inserts.add(OutboxRow, outbox_values(release_id, channel, notification, now))

    def list(self, status: OutboxStatus | None = None) -> Sequence[OutboxMessage]:
        """Every message (or those with the given status), oldest first."""
        self.inserts.write()
        query = select(OutboxRow).order_by(OutboxRow.id)
        if status is not None:
            query = query.where(OutboxRow.status == status.value)
        return [outbox_message(row) for row in self.session.scalars(query)]
