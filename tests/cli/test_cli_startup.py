"""Commands that only read the database start without loading what only other commands need:
Alembic (`db upgrade`), Slack, APScheduler, uvicorn and Starlette (`serve`), YAML and pydantic
(the pipelines file), SQLAlchemy's ORM (the commands that write). Start-up time itself is
measured by bench/cli_start.py, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.cli_support import DEV, Cli

KEY = "new_checkout"
ONLY_ELSEWHERE = {
    "alembic", "slack_bolt", "slack_sdk", "apscheduler", "uvicorn", "starlette", "yaml", "pydantic",
}
ORM = "sqlalchemy.orm"
# run commands in one fresh interpreter, then print the modules it loaded
SCRIPT = """
import json, sys
from release_bot.bot.cli.commands import main
for args in json.loads(sys.argv[1]):
    main(args, standalone_mode=False)
print(json.dumps(sorted(sys.modules)))
"""


def modules_loaded_by(tmp_path: Path, *command_lines: list[str]) -> set[str]:
    """The modules a new process has loaded after running the command lines."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(command_lines)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded_by(tmp_path: Path, *command_lines: list[str]) -> set[str]:
    """The top-level packages a new process has loaded after running the command lines."""
    return {name.partition(".")[0] for name in modules_loaded_by(tmp_path, *command_lines)}


def test_reading_commands_load_neither_migrations_nor_slack_nor_the_pipelines_file_nor_the_orm(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    sqlite_cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard",
                  "--value", "false")
    release_id = str(sqlite_cli.start(KEY, "true", DEV))
    database = ["--database-url", str(sqlite_cli.database_url)]
    modules = modules_loaded_by(
        tmp_path,
        [*database, "eval", KEY, "--env", "staging", "--unit", "user-1"],
        [*database, "release", "show", release_id],
        [*database, "history", KEY],
        [*database, "flag", "list"],
        [*database, "release", "list"],
    )
    assert "sqlalchemy.engine" in modules, "the commands ran"
    assert {name.partition(".")[0] for name in modules} & ONLY_ELSEWHERE == set()
    assert {name for name in modules if name == ORM or name.startswith(f"{ORM}.")} == set()


def test_a_command_that_writes_loads_the_orm(sqlite_cli: Cli, tmp_path: Path) -> None:
    database = ["--database-url", str(sqlite_cli.database_url),
                "--config", str(sqlite_cli.config)]
    modules = modules_loaded_by(
        tmp_path,
        [*database, "flag", "create", KEY, "--kind", "gate", "--pipeline", "standard",
         "--value", "false"],
    )
    assert ORM in modules, "the check above would catch an ORM import"


def test_an_empty_sqlite_file_still_loads_alembic_to_upgrade(tmp_path: Path) -> None:
    database = ["--database-url", f"sqlite:///{tmp_path / 'new.db'}"]
    loaded = loaded_by(tmp_path, [*database, "flag", "list"])
    assert "alembic" in loaded
    assert loaded & (ONLY_ELSEWHERE - {"alembic"}) == set()
