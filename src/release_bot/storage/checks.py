"""Due checks as a work queue: claimed with a lease, so replicas never measure one twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, select, tuple_, update

from release_bot.core.guardrails import DueCheck
from release_bot.storage.database import Database
from release_bot.storage.reads import READ_ONLY
from release_bot.storage.tables import CheckStateRow, ReleaseRow

# how long a claimed check is left to the runner measuring it before another may take it
LEASE = timedelta(seconds=60)


class SqlCheckQueue:
    """Claims due checks of active releases; Postgres skips rows other replicas hold locked."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def claim(self, now: datetime, limit: int, lease: timedelta = LEASE) -> Sequence[DueCheck]:
        """Take up to `limit` checks due at now, earliest first, pushing each one's due time
        a lease ahead; measuring records the real next due time.

        Whether anything is due is asked first without the write lock, so an idle runner
        polling a few times a second never holds SQLite's writers up.
        """
        with self.database.engine.connect().execution_options(**{READ_ONLY: True}) as reading:
            if not reading.scalar(select(exists().where(CheckStateRow.due_at <= now))):
                return []
        with self.database.sessions.begin() as session:
            query = (
                select(CheckStateRow.release_id, CheckStateRow.phase, CheckStateRow.name,
                       CheckStateRow.query, CheckStateRow.due_at)
                .join(ReleaseRow, ReleaseRow.id == CheckStateRow.release_id)
                .where(CheckStateRow.due_at <= now, ReleaseRow.active_flag_key.is_not(None))
                .order_by(CheckStateRow.due_at)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(of=CheckStateRow, skip_locked=True)
            found = [DueCheck(release_id, phase, name, text, due_at)
                     for release_id, phase, name, text, due_at in session.execute(query)
                     if due_at is not None]
            if found:
                keys = [(d.release_id, d.phase, d.name) for d in found]
                session.execute(
                    update(CheckStateRow)
                    .where(tuple_(CheckStateRow.release_id, CheckStateRow.phase,
                                  CheckStateRow.name).in_(keys))
                    .values(due_at=now + lease)
                    .execution_options(synchronize_session=False)
                )
            return found
