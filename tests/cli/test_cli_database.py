"""Which database the CLI uses (DATABASE_URL, `.env`, --database-url, the default file), how
it brings a schema up to date, and what it says when a database cannot be used (exit 3)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import release_bot.storage.database as storage_database
from release_bot.storage import open_database
from tests.support.cli_support import DEV, EXAMPLE, Cli

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
NO_ENVIRONMENT = {"DATABASE_URL": None, "RELEASE_BOT_CONFIG": None}


def schema_is_current(url: str) -> bool:
    database = open_database(url)
    try:
        return database.is_current()
    finally:
        database.dispose()


def test_an_empty_sqlite_file_is_upgraded_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    url = f"sqlite:///{path}"
    assert not schema_is_current(url)
    cli = Cli(url, EXAMPLE)
    assert cli.json("flag", "list") == []
    assert schema_is_current(url)
    assert cli.ok("db", "upgrade") == "database is up to date\n"


@POSTGRES_ONLY
def test_postgres_without_migrations_asks_for_db_upgrade(database_url: str) -> None:
    cli = Cli(database_url, EXAMPLE)
    upgrade_first = "The database schema is missing or old: run 'release-bot db upgrade' first."
    for args in [
        ["flag", "list"],
        ["flag", "create", "f", "--kind", "gate", "--pipeline", "standard", "--value", "true"],
        ["eval", "f", "--env", "production", "--unit", "u1"],
        ["release", "tick"],
    ]:
        assert cli.fail(*args, code=3) == upgrade_first, args
    assert not schema_is_current(database_url), "the CLI never migrates Postgres by itself"

    assert cli.ok("db", "upgrade") == "database is up to date\n"
    assert schema_is_current(database_url)
    assert cli.ok("db", "upgrade") == "database is up to date\n", "upgrading twice is harmless"
    cli.ok("flag", "create", "f", "--kind", "gate", "--pipeline", "standard", "--value", "false")
    assert cli.eval("f", "production", "u1") is False


@POSTGRES_ONLY
@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_url_forms_from_database_url(database_url: str, scheme: str) -> None:
    pasted = scheme + "://" + database_url.partition("://")[2]
    from_environment = Cli(None, EXAMPLE)
    assert from_environment.ok("db", "upgrade", env={"DATABASE_URL": pasted}) == (
        "database is up to date\n"
    )
    from_environment.ok(
        "flag", "create", "f", "--kind", "gate", "--pipeline", "standard", "--value", "false",
        env={"DATABASE_URL": pasted},
    )
    from_option = Cli(pasted, EXAMPLE)
    assert [f["key"] for f in from_option.json("flag", "list")] == ["f"]


def test_database_url_config_and_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(EXAMPLE, tmp_path / "pipelines.yml")
    defaults = Cli(None, None)
    create = ["flag", "create", "f", "--kind", "gate", "--pipeline", "standard"]

    # nothing set: ./release-bot.db and ./pipelines.yml
    defaults.ok(*create, "--value", "false", env=NO_ENVIRONMENT)
    assert (tmp_path / "release-bot.db").exists()

    # a .env file is read; the environment wins over it; --database-url wins over both
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///dotenv.db\n")
    defaults.ok(*create, "--value", "true", env=NO_ENVIRONMENT)
    assert (tmp_path / "dotenv.db").exists()
    defaults.ok(*create, "--value", "true", env={"DATABASE_URL": "sqlite:///env.db"})
    assert (tmp_path / "env.db").exists()
    option = Cli("sqlite:///option.db", None)
    assert option.ok("flag", "list", env={"DATABASE_URL": "sqlite:///env.db"}) == ""
    assert (tmp_path / "option.db").exists()

    # RELEASE_BOT_CONFIG names the pipelines file; --config wins over it
    (tmp_path / "pipelines.yml").unlink()
    shutil.copyfile(EXAMPLE, tmp_path / "mine.yml")
    mine = {"DATABASE_URL": None, "RELEASE_BOT_CONFIG": "mine.yml"}
    assert defaults.ok("pipelines", "check", env=mine).endswith("mine.yml: OK, 2 pipeline(s)\n")
    assert Cli(None, Path("other.yml")).fail("pipelines", "check", code=2, env=mine).startswith(
        "other.yml: no such file"
    )


def test_databases_that_cannot_be_used_exit_3(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("these are not the tables you are looking for\n" * 100)
    for url, error in [
        (f"sqlite:///{not_a_database}", "cannot use the database: file is not a database"),
        (f"sqlite:///{tmp_path}/no/such/dir/x.db",
         "cannot use the database: unable to open database file"),
        ("postgres://postgres@127.0.0.1:1/test",
         "cannot use the database: connection failed: connection to server at \"127.0.0.1\", "
         "port 1 failed: Connection refused"),
    ]:
        assert Cli(url, EXAMPLE).fail("flag", "list", code=3) == error, url


def test_urls_that_are_not_databases_exit_2(tmp_path: Path) -> None:
    for url, error in [
        ("mysql://root@localhost/releases",
         "'mysql://' databases are not supported: release-bot uses SQLite or PostgreSQL — write "
         "it like sqlite:///release-bot.db or postgresql://user@host/dbname."),
        ("release-bot.db",
         "'release-bot.db' is not a database URL: write it like sqlite:///release-bot.db or "
         "postgresql://user@host/dbname."),
    ]:
        assert Cli(url, EXAMPLE).fail("eval", "f", "--env", "e", "--unit", "u", code=2) == error
    assert Cli("release-bot.db", EXAMPLE).fail(
        "release", "start", "f", "--value", "true", "--by", DEV, code=2
    ).startswith("'release-bot.db' is not a database URL")


def test_reading_commands_answer_while_a_writer_holds_sqlite(
    sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_database, "SQLITE_BUSY_TIMEOUT_SECONDS", 1)  # fail fast
    sqlite_cli.ok("flag", "create", "f", "--kind", "gate", "--pipeline", "standard",
                  "--value", "false")
    release_id = sqlite_cli.start("f", "true", DEV)
    assert sqlite_cli.database_url is not None
    writer = open_database(sqlite_cli.database_url)
    try:
        with writer.uow() as uow:
            flag = uow.flags.get("f")
            assert flag is not None
            uow.flags.add(replace(flag, key="g"))  # flushed: the writer holds the lock
            assert sqlite_cli.eval("f", "staging", "u1") is True
            assert sqlite_cli.show(release_id)["state"] == "baking"
            assert [e["action"] for e in sqlite_cli.history("f")] == ["create", "trigger"]
            assert "\tg\t" not in sqlite_cli.ok("flag", "list"), "nothing uncommitted is read"
    finally:
        writer.dispose()
