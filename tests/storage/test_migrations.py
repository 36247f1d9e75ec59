"""The packaged Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from release_bot.storage import Database, open_database
from release_bot.storage.database import HEAD_REVISION, MIGRATIONS
from release_bot.storage.tables import Base


def test_upgrade_of_an_empty_database_matches_the_models(database_url: str) -> None:
    database = open_database(database_url)
    database.upgrade()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
    database.dispose()
    assert differences == []
    assert tables == {"alembic_version", "flags", "flag_versions", "releases", "events", "outbox",
                      "check_states", "api_tokens", "start_keys", "served_revision"}


def test_upgrade_twice_changes_nothing(database: Database) -> None:
    database.upgrade()
    assert database.is_current()


def test_the_due_sweep_and_the_active_release_rule_have_their_indexes(database: Database) -> None:
    inspector = inspect(database.engine)
    release_indexes = {index["name"]: index["column_names"]
                       for index in inspector.get_indexes("releases")}
    assert release_indexes["ix_releases_state_bake_ends_at"] == ["state", "bake_ends_at"]
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("releases")}
    assert ("active_flag_key",) in uniques
    outbox_indexes = {index["name"]: index["column_names"]
                      for index in inspector.get_indexes("outbox")}
    assert outbox_indexes["ix_outbox_status_id"] == ["status", "id"]


def test_head_revision_is_the_newest_migration() -> None:
    # is_current() compares the database with this constant instead of loading Alembic
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert heads == [HEAD_REVISION], "set storage.database.HEAD_REVISION to the new migration's id"


def test_a_database_at_another_revision_is_not_current(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    assert not database.is_current()


def test_the_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()


REPLICA = """
import sys, time
from pathlib import Path
from release_bot.storage import upgrade
url, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
upgrade(url)
"""


def test_replicas_upgrading_at_the_same_moment_all_succeed(
    database_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    replicas = [subprocess.Popen([sys.executable, "-c", REPLICA, database_url, str(go)],
                                 stderr=subprocess.PIPE, text=True) for _ in range(4)]
    time.sleep(1.5)  # let every replica import and wait at the start line
    go.touch()
    failures = [replica.communicate(timeout=120)[1] for replica in replicas
                if replica.wait(timeout=120) != 0]
    assert failures == []
    database = open_database(database_url)
    assert database.is_current()
    database.dispose()


def test_upgrades_in_threads_of_one_process_take_turns(database_url: str) -> None:
    replicas = [open_database(database_url) for _ in range(3)]
    start = threading.Barrier(len(replicas), timeout=30)

    def upgrade_when_all_are_ready(replica: Database) -> None:
        start.wait()
        replica.upgrade()

    with ThreadPoolExecutor(max_workers=len(replicas)) as pool:
        list(pool.map(upgrade_when_all_are_ready, replicas))
    assert all(replica.is_current() for replica in replicas)
    for replica in replicas:
        replica.dispose()
