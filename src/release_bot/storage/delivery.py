"""The outbox as a delivery queue: claims with leases, per-release order, retries, failures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update

from release_bot.storage.database import Database
from release_bot.storage.mapping import outbox_message
from release_bot.storage.outbox import OutboxMessage, OutboxStatus
from release_bot.storage.tables import OutboxRow, ReleaseRow

LEASE = timedelta(minutes=2)
PENDING = OutboxStatus.PENDING.value


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending rows that are due and not leased to a live worker."""
    return (
        (OutboxRow.status == PENDING)
        & or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now)
        & or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now)
    )


class SqlDeliveryQueue:
    """Claims outbox rows for one worker; Postgres skips rows other replicas hold locked."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def claim(self, worker: str, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Lease due rows, oldest first, keeping only releases whose oldest pending row is here."""
        with self.database.sessions.begin() as session:
            query = select(OutboxRow).where(_claimable(now)).order_by(OutboxRow.id).limit(limit)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            if not rows:
                return []
            oldest = dict(
                session.execute(
                    select(OutboxRow.release_id, func.min(OutboxRow.id))
                    .where(
                        OutboxRow.status == PENDING,
                        OutboxRow.release_id.in_({r.release_id for r in rows}),
                    )
                    .group_by(OutboxRow.release_id)
                ).all()
            )
            claimed_ids = {r.id for r in rows}
            rows = [r for r in rows if oldest.get(r.release_id) in claimed_ids]
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

    def drop_pending(self, reason: str, now: datetime) -> int:
        """Mark every pending row dropped (nobody will post it); returns how many."""
        with self.database.sessions.begin() as session:
            dropped = session.execute(
                update(OutboxRow)
                .where(OutboxRow.status == PENDING)
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
