"""One transaction over every repository (Database.uow() hands them out)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from release_bot.storage.access import SqlStartKeyRepository, SqlTokenRepository
from release_bot.storage.conflicts import races_as_concurrent_updates
from release_bot.storage.repositories import (
    InsertBuffer,
    SqlCheckRepository,
    SqlFlagRepository,
    SqlHistoryRepository,
    SqlOutbox,
    SqlReleaseRepository,
)
from release_bot.storage.served import bump_if_changed, forget_changes


class SqlUnitOfWork:
    """A session per `with` block; nothing is kept unless commit() is called."""

    session: Session
    flags: SqlFlagRepository
    releases: SqlReleaseRepository
    history: SqlHistoryRepository
    outbox: SqlOutbox
    checks: SqlCheckRepository
    tokens: SqlTokenRepository
    start_keys: SqlStartKeyRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        """Open a session and the repositories over it."""
        self.session = self.session_factory()
        self.flags = SqlFlagRepository(self.session)
        self.releases = SqlReleaseRepository(self.session)
        self.inserts = InsertBuffer(self.session)
        self.history = SqlHistoryRepository(self.session, self.inserts)
        self.outbox = SqlOutbox(self.session, self.inserts)
        self.checks = SqlCheckRepository(self.session)
        self.tokens = SqlTokenRepository(self.session)
        self.start_keys = SqlStartKeyRepository(self.session)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Roll back whatever was not committed and close the session."""
        forget_changes(self.session)
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        """Make the changes durable; a lost race raises ConcurrentUpdate."""
        self.inserts.write()
        with races_as_concurrent_updates():
            self.session.flush()
            bump_if_changed(self.session)
            self.session.commit()

    def rollback(self) -> None:
        """Drop the changes made since the last commit."""
        self.inserts.discard()
        forget_changes(self.session)
        self.session.rollback()
