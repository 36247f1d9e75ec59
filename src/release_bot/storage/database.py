"""Database URLs, engines with safe concurrency settings, Alembic migrations, and the Database
that hands out units of work (the ORM write path) and reads (SQLAlchemy Core).

Alembic is imported only to migrate, and the ORM only for a unit of work: checking whether a
schema is current reads the `alembic_version` table with plain SQL and compares it with
HEAD_REVISION.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from release_bot.storage.reads import READ_ONLY, SqlReads

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

    from release_bot.storage.unit_of_work import SqlUnitOfWork

DEFAULT_DATABASE_URL = "sqlite:///release-bot.db"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
MIGRATIONS = Path(__file__).parent / "migrations"
# the newest migration's revision id; tests/storage keeps it equal to Alembic's head
HEAD_REVISION = "0006_data_plane"
VERSION_TABLE = "alembic_version"
MIGRATION_LOCK = 0x72656C62  # Postgres advisory lock key held while migrating ("relb")
# Alembic keeps the running migration's context in a module global: one upgrade per process.
_ALEMBIC_IN_USE = threading.Lock()

_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
_EXAMPLES = "write it like sqlite:///release-bot.db or postgresql://user@host/dbname"


def normalize_url(raw: str) -> str:
    """The SQLAlchemy URL for a pasted SQLite or Postgres URL; anything else is a ValueError."""
    text = raw.strip()
    scheme, separator, rest = text.partition("://")
    if not separator:
        raise ValueError(f"'{text}' is not a database URL: {_EXAMPLES}.")
    driver = _DRIVERS.get(scheme.lower())
    if driver is None:
        raise ValueError(
            f"'{scheme}://' databases are not supported: release-bot uses SQLite or PostgreSQL — "
            f"{_EXAMPLES}."
        )
    normalized = f"{driver}://{rest}"
    try:
        url = make_url(normalized)
    except ArgumentError as error:
        raise ValueError(f"The database URL could not be read: {_EXAMPLES}.") from error
    if driver == "sqlite" and not url.database:
        return "sqlite:///:memory:"
    return normalized


def make_engine(url: str) -> Engine:
    """An engine for the URL: SQLite serializes writers, Postgres checks pooled connections."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    """SQLite with a busy timeout, foreign keys, WAL for files and BEGIN IMMEDIATE transactions."""
    in_memory = url.database in (None, "", ":memory:")
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
    if in_memory:
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        """Hand transaction control to SQLAlchemy and switch on foreign keys and WAL."""
        connection = cast(sqlite3.Connection, dbapi_connection)
        connection.isolation_level = None
        connection.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            _use_wal(connection)

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        """Take the write lock up front, so concurrent writers queue instead of failing; a
        read-only transaction reads its snapshot without waiting for the writers."""
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch a database file to WAL once; the switch needs a moment with no other user.

    SQLite's busy timeout does not cover changing the journal mode, so a second process
    opening the file while the first migrates it would fail at once: wait and retry instead.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")  # a no-op once the file is WAL
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def alembic_config(connection: Connection) -> Config:
    """An Alembic config built in code: the packaged migrations, run on this connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(target: Engine | str) -> None:
    """Migrate the database (an engine or a URL) to the newest schema revision."""
    from alembic import command

    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with _ALEMBIC_IN_USE, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # replicas starting together migrate one after the other (SQLite's
                # BEGIN IMMEDIATE already serializes them)
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            command.upgrade(alembic_config(connection), "head")
    finally:
        if isinstance(target, str):
            engine.dispose()


def is_current(engine: Engine) -> bool:
    """True when the database's schema revision is HEAD_REVISION (read without Alembic, and
    without waiting for a writer)."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return False
        query = text(f"SELECT version_num FROM {VERSION_TABLE}")
        revisions = set(connection.execute(query).scalars())
    return revisions == {HEAD_REVISION}


class Database:
    """An engine, and the units of work and reads the services take."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """The ORM session factory (the ORM loads with the first unit of work)."""
        from sqlalchemy.orm import sessionmaker

        from release_bot.storage.served import track_served_changes

        factory = sessionmaker(self.engine, expire_on_commit=False)
        track_served_changes(factory)
        return factory

    def uow(self) -> SqlUnitOfWork:
        """A new unit of work (use it in a `with` block)."""
        from release_bot.storage.unit_of_work import SqlUnitOfWork

        return SqlUnitOfWork(self.sessions)

    def reads(self) -> SqlReads:
        """A new read-only transaction (use it in a `with` block)."""
        return SqlReads(self.engine)

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
