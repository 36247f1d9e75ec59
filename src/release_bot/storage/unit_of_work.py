"""One transaction over every repository, and the Database that hands them out."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from release_bot.storage.conflicts import races_as_concurrent_updates
from release_bot.storage.database import DEFAULT_DATABASE_URL, is_current, make_engine, upgrade
from release_bot.storage.repositories import (
    InsertBuffer,
    SqlFlagRepository,
    SqlHistoryRepository,
    SqlOutbox,
    SqlReleaseRepository,
)
from release_bot.storage.served import bump_if_changed, forget_changes, track_served_changes


class SqlUnitOfWork:
    """A session per `with` block; nothing is kept unless commit() is called."""

    session: Session
    flags: SqlFlagRepository
    releases: SqlReleaseRepository
    history: SqlHistoryRepository
    outbox: SqlOutbox

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


class Database:
    """An engine, its session factory and the unit-of-work factory the services take."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        track_served_changes(self.sessions)

    def uow(self) -> SqlUnitOfWork:
        """A new unit of work (use it in a `with` block)."""
        return SqlUnitOfWork(self.sessions)

    def upgrade(self) -> None:
        """Migrate the schema to the newest revision."""
        upgrade(self.engine)

    def is_current(self) -> bool:
        """True when the schema is at the newest revision."""
        return is_current(self.engine)

    def ping(self) -> bool:
        """True when the database answers a trivial query (without waiting for write locks)."""
        try:
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("SELECT 1")
                cursor.close()
            finally:
                connection.close()
        except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error):
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_database(url: str = DEFAULT_DATABASE_URL) -> Database:
    """A Database for a URL such as `sqlite:///release-bot.db` or `postgresql://u@host/db`."""
    return Database(make_engine(url))
