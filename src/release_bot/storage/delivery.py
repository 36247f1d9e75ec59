"""The outbox as a delivery queue: claims with leases, per-release order, retries, failures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update

from release_bot.storage.database import Database
from release_bot.storage.mapping import outbox_message
from release_bot.storage.outbox import SLACK_TARGET, OutboxMessage, OutboxStatus, Stream
from release_bot.storage.tables import OutboxRow, ReleaseRow

LEASE = timedelta(minutes=2)
PENDING = OutboxStatus.PENDING.value


def _in_stream(stream: Stream) -> ColumnElement[bool]:
    """The rows a stream's worker delivers."""
    if stream is Stream.SLACK:
        return OutboxRow.target == SLACK_TARGET
    return OutboxRow.target != SLACK_TARGET


def _claimable(stream: Stream, now: datetime) -> ColumnElement[bool]:
    """Pending rows of the stream that are due and not leased to a live worker."""
    return (
        _in_stream(stream)
        & (OutboxRow.status == PENDING)
        & or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now)
        & or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now)
    )


class SqlDeliveryQueue:
    """Claims outbox rows of one stream for one worker; Postgres skips rows other replicas hold
    locked. Order is kept per release and target: a row waits for the older ones before it."""

    def __init__(self, database: Database, stream: Stream = Stream.SLACK) -> None:
        self.database = database
        self.stream = stream

    def claim(self, worker: str, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Lease due rows, oldest first, keeping only the (release, target) pairs whose oldest
        pending row is here."""
        with self.database.sessions.begin() as session:
            query = (select(OutboxRow).where(_claimable(self.stream, now))
                     .order_by(OutboxRow.id).limit(limit))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            if not rows:
                return []
            oldest = {
                (release_id, target): first
                for release_id, target, first in session.execute(
                    select(OutboxRow.release_id, OutboxRow.target, func.min(OutboxRow.id))
                    .where(
                        _in_stream(self.stream),
                        OutboxRow.status == PENDING,
                        OutboxRow.release_id.in_({r.release_id for r in rows}),
                    )
                    .group_by(OutboxRow.release_id, OutboxRow.target)
                ).all()
            }
            claimed_ids = {r.id for r in rows}
            rows = [r for r in rows if oldest.get((r.release_id, r.target)) in claimed_ids]
            for row in rows:
                row.claimed_by = worker
                row.claimed_until = now + LEASE
            return [outbox_message(row) for row in rows]

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """These rows were delivered."""
        self._update(
            ids,
            status=OutboxStatus.SENT.value,
            sent_at=now,
            last_error=None,
            attempts=OutboxRow.attempts + 1,
        )

    def mark_failed(self, message_id: int, error: str, now: datetime) -> None:
        """This row can never be delivered; it stays for `outbox list --failed`."""
        self._update(
            [message_id],
            status=OutboxStatus.FAILED.value,
            last_error=error,
            next_attempt_at=now,
            attempts=OutboxRow.attempts + 1,
        )

    def fail_behind(self, message: OutboxMessage, error: str, now: datetime) -> None:
        """This row failed for good, and so do the pending rows after it for the same release
        and target, which must not arrive without it; one transaction for them all."""
        failed = {"claimed_by": None, "claimed_until": None, "next_attempt_at": now,
                  "status": OutboxStatus.FAILED.value}
        with self.database.sessions.begin() as session:
            session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.release_id == message.release_id,
                    OutboxRow.target == message.target,
                    OutboxRow.status == PENDING,
                    OutboxRow.id > message.id,
                )
                .values(last_error=f"not sent: #{message.id} before it failed", **failed)
            )
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message.id)
                .values(last_error=error, attempts=OutboxRow.attempts + 1, **failed)
            )

    def drop_pending(self, reason: str, now: datetime) -> int:
        """Mark every pending row of the stream dropped (nobody will post it); returns how
        many. Rows of the other stream are left alone: webhooks are sent without Slack."""
        with self.database.sessions.begin() as session:
            dropped = session.execute(
                update(OutboxRow)
                .where(_in_stream(self.stream), OutboxRow.status == PENDING)
                .values(status=OutboxStatus.DROPPED.value, last_error=reason, sent_at=now)
            )
            return int(dropped.rowcount)  # type: ignore[attr-defined]

    def retry_later(self, ids: Sequence[int], error: str, at: datetime) -> None:
        """Give these rows back for another attempt at `at`."""
        self._update(ids, last_error=error, next_attempt_at=at, attempts=OutboxRow.attempts + 1)

    def unclaim(self, ids: Sequence[int]) -> None:
        """Give back rows claimed but not tried (a stopping worker): claimable again at once."""
        self._update(ids)

    def _update(self, ids: Sequence[int], **values: object) -> None:
        if not ids:
            return
        with self.database.sessions.begin() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(ids)))
                .values(claimed_by=None, claimed_until=None, **values)
            )

    def status_message(self, release_id: int) -> tuple[str, str] | None:
        """(channel, ts) of the release's status message, once posted."""
        with self.database.sessions() as session:
            found = session.execute(
                select(ReleaseRow.status_channel, ReleaseRow.status_ts).where(
                    ReleaseRow.id == release_id
                )
            ).first()
        if found is None or found[0] is None or found[1] is None:
            return None
        return str(found[0]), str(found[1])

    def set_status_message(self, release_id: int, channel: str, ts: str) -> None:
        """Remember the status message; a plain UPDATE that leaves the release's revision alone."""
        with self.database.sessions.begin() as session:
            session.execute(
                update(ReleaseRow)
                .where(ReleaseRow.id == release_id)
                .values(status_channel=channel, status_ts=ts)
                .execution_options(synchronize_session=False)
            )
