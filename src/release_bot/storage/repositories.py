"""Repositories over one SQLAlchemy session, implementing the core's storage ports."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, Table, insert, or_, select, update
from sqlalchemy.orm import Session

from release_bot.core.errors import ConcurrentUpdate, NotFound
from release_bot.core.models import (
    CheckState,
    Event,
    Flag,
    Notification,
    Release,
    ReleaseState,
    Version,
    Webhook,
)
from release_bot.core.sentences import say
from release_bot.core.sweeps import StuckRelease, SweepFailure
from release_bot.storage import schema
from release_bot.storage.conflicts import races_as_concurrent_updates
from release_bot.storage.mapping import (
    check_state_values,
    event_values,
    flag_values,
    outbox_message,
    outbox_values,
    release_values,
    version_values,
    webhook_values,
)
from release_bot.storage.outbox import OutboxMessage, OutboxStatus
from release_bot.storage.reads import FlagReads, HistoryReads, ReleaseReads, release_by_id
from release_bot.storage.tables import FlagRow, FlagVersionRow, OutboxRow, ReleaseRow

# a release that moves is no longer stuck
_NOT_STUCK = {"sweep_failures": 0, "sweep_error": None, "sweep_retry_at": None}
_FAILURE_COLUMNS = (ReleaseRow.id, ReleaseRow.sweep_failures, ReleaseRow.sweep_error,
                    ReleaseRow.sweep_retry_at)
# the timer each timed state is due by
_TIMERS = {ReleaseState.BAKING: ReleaseRow.bake_ends_at,
           ReleaseState.AWAITING_APPROVAL: ReleaseRow.remind_at}
_Columns = TypeVarTuple("_Columns")


def _due(query: Select[*_Columns], state: ReleaseState, now: datetime, limit: int
         ) -> Select[*_Columns]:
    """The query narrowed to releases in `state` whose timer is due at now, earliest first;
    a stuck release only once its retry time has come too."""
    timer = _TIMERS[state]
    ready = or_(ReleaseRow.sweep_retry_at.is_(None), ReleaseRow.sweep_retry_at <= now)
    return (
        query.where(ReleaseRow.state == state.value, timer <= now, ready)
        .order_by(timer, ReleaseRow.id)
        .limit(limit)
    )


def _failure(release_id: int, failures: int, error: str | None, retry_at: datetime | None
             ) -> SweepFailure:
    """A recorded sweep failure from its columns (written together, so both are set)."""
    assert error is not None and retry_at is not None, f"release #{release_id}: half a failure"
    return SweepFailure(release_id, failures, error, retry_at)


def flush(session: Session) -> None:
    """Send pending changes now, so races surface here as ConcurrentUpdate."""
    with races_as_concurrent_updates():
        session.flush()


class SqlFlagRepository(FlagReads):
    """Flags and their immutable versions: the reads of FlagReads, and writes."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session

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

    def add_version(self, key: str, version: Version) -> None:
        """Store a new immutable version of a flag."""
        self.session.add(FlagVersionRow(**version_values(key, version)))


class SqlReleaseRepository(ReleaseReads):
    """Releases, saved with a compare-and-swap on their revision."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session
        self._loaded: dict[int, ReleaseRow] = {}

    def get(self, release_id: int) -> Release | None:
        """The release with this id, or None; its row is kept for the compare-and-swap."""
        query = select(ReleaseRow).from_statement(release_by_id(release_id))
        row = self.session.scalars(query).one_or_none()
        if row is None:
            return None
        self._loaded[release_id] = row
        return self.with_checks([row])[0]

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
        for column, value in {**release_values(release), **_NOT_STUCK}.items():
            setattr(row, column, value)
        # The UPDATE ... WHERE revision = read goes out with the commit's flush; a lost race
        # surfaces there as ConcurrentUpdate. SQLAlchemy's version counter adds one.
        return replace(release, revision=release.revision + 1)

    def due(self, now: datetime, limit: int) -> Sequence[Release]:
        """Up to `limit` baking releases whose bake timer has ended at now, earliest first
        (a stuck release only once its retry time has come too)."""
        return self._load(_due(select(ReleaseRow), ReleaseState.BAKING, now, limit))

    def due_ids(self, now: datetime, limit: int) -> builtins.list[int]:
        """The ids due() names, read without turning any row into a release."""
        query = _due(select(ReleaseRow.id), ReleaseState.BAKING, now, limit)
        return builtins.list(self.session.scalars(query))

    def reminders_due(self, now: datetime, limit: int) -> Sequence[Release]:
        """Up to `limit` releases awaiting approval whose reminder is due at now
        (a stuck release only once its retry time has come too)."""
        return self._load(_due(select(ReleaseRow), ReleaseState.AWAITING_APPROVAL, now, limit))

    def reminder_ids(self, now: datetime, limit: int) -> builtins.list[int]:
        """The ids reminders_due() names, read without turning any row into a release."""
        query = _due(select(ReleaseRow.id), ReleaseState.AWAITING_APPROVAL, now, limit)
        return builtins.list(self.session.scalars(query))

    def next_due(self) -> datetime | None:
        """The earliest bake end or reminder of any release, or None.

        Two index walks that stop at the first release not stuck, and a look at the stuck
        ones, each due at its timer or its retry time, whichever is later.
        """
        times = [
            self.session.scalar(
                select(timer)
                .where(ReleaseRow.state == state.value, ReleaseRow.sweep_retry_at.is_(None),
                       timer.is_not(None))
                .order_by(timer)
                .limit(1)
            )
            for state, timer in _TIMERS.items()
        ]
        stuck = self.session.execute(  # ordered, so that SQLite walks the retry index too
            select(ReleaseRow.state, ReleaseRow.bake_ends_at, ReleaseRow.remind_at,
                   ReleaseRow.sweep_retry_at)
            .where(ReleaseRow.sweep_retry_at.is_not(None))
            .order_by(ReleaseRow.sweep_retry_at)
        )
        for state, bake_ends_at, remind_at, retry_at in stuck:
            timer = {ReleaseState.BAKING.value: bake_ends_at,
                     ReleaseState.AWAITING_APPROVAL.value: remind_at}.get(state)
            if timer is not None and retry_at is not None:
                times.append(max(timer, retry_at))
        return min((t for t in times if t is not None), default=None)

    def sweep_failure(self, release_id: int) -> SweepFailure | None:
        """What the sweep recorded about failing on this release, or None."""
        row = self.session.execute(
            select(*_FAILURE_COLUMNS).where(ReleaseRow.id == release_id,
                                            ReleaseRow.sweep_failures > 0)
        ).one_or_none()
        return None if row is None else _failure(*row)

    def record_sweep_failure(self, failure: SweepFailure) -> None:
        """Keep the sweep's failure on a release, as a plain UPDATE that leaves its revision
        (a failed sweep changes nothing a person acts on)."""
        self.session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == failure.release_id)
            .values(sweep_failures=failure.failures, sweep_error=failure.error,
                    sweep_retry_at=failure.retry_at)
            .execution_options(synchronize_session=False)
        )

    def stuck(self) -> builtins.list[StuckRelease]:
        """Every release with a recorded sweep failure, next retry first."""
        rows = self.session.execute(
            select(*_FAILURE_COLUMNS, ReleaseRow.flag_key, ReleaseRow.state, ReleaseRow.phase)
            .where(ReleaseRow.sweep_failures > 0)
            .order_by(ReleaseRow.sweep_retry_at, ReleaseRow.id)
        )
        return [
            StuckRelease(_failure(release_id, failures, error, retry_at), flag_key,
                         f"{state}({phase})")
            for release_id, failures, error, retry_at, flag_key, state, phase in rows
        ]

    def _load(self, query: Select[ReleaseRow]) -> builtins.list[Release]:
        """Releases of a query, their rows kept for the compare-and-swap."""
        rows = builtins.list(self.session.scalars(query))
        self._loaded.update((row.id, row) for row in rows)
        return builtins.list(self.with_checks(rows))


class SqlCheckRepository:
    """The states of the checks of releases' live phases."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def start(self, release_id: int, state: CheckState, query: str) -> None:
        """Begin measuring a check of a phase that went live."""
        self.session.execute(insert(schema.check_states),
                             [{**check_state_values(release_id, state), "query": query}])

    def save(self, release_id: int, state: CheckState) -> None:
        """Keep a check's latest measurement, counts and next due time."""
        table = schema.check_states
        self.session.execute(
            update(table)
            .where(table.c.release_id == release_id, table.c.phase == state.phase,
                   table.c.name == state.name)
            .values(check_state_values(release_id, state))
        )

    def stop(self, release_id: int) -> None:
        """Measure none of the release's checks again (it ended); their last states stay."""
        table = schema.check_states
        self.session.execute(
            update(table).where(table.c.release_id == release_id).values(due_at=None))


class InsertBuffer:
    """Append-only rows of one transaction, written as one multi-row INSERT per table."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[Table, list[dict[str, Any]]] = {}

    def add(self, table: Table, values: dict[str, Any]) -> None:
        """Keep a row for the next write()."""
        self.rows.setdefault(table, []).append(values)

    def write(self) -> None:
        """INSERT what was kept; the autoflush before it may surface a lost race."""
        with races_as_concurrent_updates():
            for table, rows in self.rows.items():
                self.session.execute(insert(table), rows)
        self.rows.clear()

    def discard(self) -> None:
        """Forget what was kept (the transaction rolls back)."""
        self.rows.clear()


class SqlHistoryRepository(HistoryReads):
    """The append-only history: rows are added, never changed."""

    def __init__(self, session: Session, inserts: InsertBuffer) -> None:
        super().__init__(session)
        self.inserts = inserts

    def append(self, event: Event) -> None:
        """Add one event (written with the transaction's other rows, no id fetched back)."""
        self.inserts.add(schema.events, event_values(event))

    def for_flag(self, key: str, *, offset: int = 0, limit: int | None = None
                 ) -> Sequence[Event]:
        """A flag's events, oldest first (from the offset-th, at most limit of them), this
        transaction's included."""
        self.inserts.write()
        return super().for_flag(key, offset=offset, limit=limit)

    def for_release(self, release_id: int) -> Sequence[Event]:
        """A release's events, oldest first, this transaction's included."""
        self.inserts.write()
        return super().for_release(release_id)


class SqlOutbox:
    """Notifications written in the same transaction as the change that caused them."""

    def __init__(self, session: Session, inserts: InsertBuffer) -> None:
        self.session = session
        self.inserts = inserts

    def put(self, release_id: int, channel: str | None, notification: Notification,
            now: datetime) -> None:
        """Queue one notification for delivery after commit."""
        self.inserts.add(schema.outbox, outbox_values(release_id, channel, notification, now))

    def put_event(self, release_id: int, webhook: Webhook, event: Event, now: datetime) -> None:
        """Queue one history event for a webhook endpoint, after commit, with a message id
        unique across databases (a receiver may outlive ours)."""
        message_id = f"msg_{uuid.uuid4().hex}"
        self.inserts.add(schema.outbox, webhook_values(release_id, webhook, event, message_id, now))

    def list(self, status: OutboxStatus | None = None) -> Sequence[OutboxMessage]:
        """Every message (or those with the given status), oldest first."""
        self.inserts.write()
        query = select(OutboxRow).order_by(OutboxRow.id)
        if status is not None:
            query = query.where(OutboxRow.status == status.value)
        return [outbox_message(row) for row in self.session.scalars(query)]
