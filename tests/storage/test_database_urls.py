"""Database URLs people paste, and the engine settings that keep concurrent writers safe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from release_bot.storage import (
    DEFAULT_DATABASE_URL,
    Database,
    is_current,
    make_engine,
    normalize_url,
    open_database,
    upgrade,
)
from tests.support.samples import sample_flag


@pytest.mark.parametrize(("pasted", "normalized"), [
    ("sqlite:///release-bot.db", "sqlite:///release-bot.db"),
    ("sqlite:////var/lib/release-bot/state.db", "sqlite:////var/lib/release-bot/state.db"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("sqlite://", "sqlite:///:memory:"),
    ("  sqlite:///release-bot.db\n", "sqlite:///release-bot.db"),
    ("postgresql://bot@db.internal/releases", "postgresql+psycopg://bot@db.internal/releases"),
    ("postgres://bot:s%40cret@db:5433/releases?sslmode=require",
     "postgresql+psycopg://bot:s%40cret@db:5433/releases?sslmode=require"),
    ("postgresql+psycopg://bot@db/releases", "postgresql+psycopg://bot@db/releases"),
])
def test_the_urls_people_paste_are_understood(pasted: str, normalized: str) -> None:
    assert normalize_url(pasted) == normalized


@pytest.mark.parametrize("pasted", ["release-bot.db", "/var/lib/release-bot.db", "", "./x.db"])
def test_a_bare_path_is_refused_with_an_example_of_a_url(pasted: str) -> None:
    with pytest.raises(ValueError, match=r"is not a database URL: write it like sqlite:///"):
        normalize_url(pasted)


def test_an_unsupported_database_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"'mysql://' databases are not supported"):
        normalize_url("mysql://root@localhost/releases")


def test_the_default_is_a_sqlite_file_in_the_working_directory() -> None:
    assert normalize_url(DEFAULT_DATABASE_URL) == "sqlite:///release-bot.db"


def test_sqlite_files_get_foreign_keys_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with engine.connect() as connection:
        pragma = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                  for name in ("foreign_keys", "journal_mode", "busy_timeout")}
    engine.dispose()
    assert pragma == {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 30_000}


def test_every_sqlite_transaction_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # a read, inside SQLAlchemy's transaction
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again once the transaction ended
    other.execute("ROLLBACK")
    other.close()
    engine.dispose()


def test_an_in_memory_database_is_one_database_for_every_unit_of_work() -> None:
    database = open_database("sqlite:///:memory:")
    database.upgrade()
    with database.uow() as uow:
        uow.flags.add(sample_flag())
        uow.commit()
    with database.uow() as uow:
        assert uow.flags.get("new_checkout") == sample_flag()
    database.dispose()


def test_upgrade_works_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    upgrade("sqlite:///bot.db")
    engine = make_engine("sqlite:///bot.db")
    assert is_current(engine)
    engine.dispose()
    assert (elsewhere / "bot.db").exists()


def test_is_current_tells_an_empty_database_from_a_migrated_one(database_url: str) -> None:
    database = open_database(database_url)
    assert not database.is_current()
    database.upgrade()
    assert database.is_current()
    database.dispose()


def test_ping_answers_true_for_a_working_database(database: Database) -> None:
    assert database.ping()


def test_ping_answers_false_when_the_server_is_unreachable() -> None:
    database = open_database("postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2")
    assert not database.ping()
    database.dispose()
