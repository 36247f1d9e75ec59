"""Database fixtures: each test gets an empty, migrated database on SQLite and on Postgres.

Postgres is found at TEST_POSTGRES_URL (default: the local test server). When it cannot be
reached, the Postgres cases are skipped — unless REQUIRE_POSTGRES=1, which makes them fail.
TEST_DATABASES=sqlite or =postgres runs the database tests on one of the two only.
Each Postgres case runs in a schema of its own (search_path), dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from release_bot.storage import Database, normalize_url, open_database

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """An engine on the test Postgres server, for creating and dropping per-test schemas."""
    url = make_url(normalize_url(POSTGRES_URL))
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        where = url.render_as_string(hide_password=True)
        message = f"PostgreSQL at {where} is unreachable: {error.orig}"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{message} (REQUIRE_POSTGRES=1, so this is an error)", pytrace=False)
        pytest.skip(message)
    yield engine
    engine.dispose()


SELECTED = {d.strip() for d in os.environ.get("TEST_DATABASES", "sqlite,postgres").split(",")}
DATABASES = [
    pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
    for name in ("sqlite", "postgres")
    if name in SELECTED
]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """The URL of an empty database: a fresh SQLite file, or a fresh schema on Postgres."""
    if request.param == "sqlite":
        yield f"sqlite:///{os.path.join(tmp_path, 'release-bot.db')}"
        return
    server: Engine = request.getfixturevalue("postgres_server")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with server.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(normalize_url(POSTGRES_URL)).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    yield url.render_as_string(hide_password=False)
    with server.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An empty database migrated to the newest schema."""
    db = open_database(database_url)
    db.upgrade()
    yield db
    db.dispose()
