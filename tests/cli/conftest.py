"""A `release-bot` bound to each test database (SQLite and Postgres) and a pipelines file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import readme_walkthrough
from tests.support.cli_support import EXAMPLE, Cli


@pytest.fixture
def pipelines_yml(tmp_path: Path) -> Path:
    """A fresh copy of pipelines.example.yml, as the README has a new user make."""
    path = tmp_path / "pipelines.yml"
    shutil.copyfile(EXAMPLE, path)
    return path


@pytest.fixture
def cli(database_url: str, pipelines_yml: Path) -> Cli:
    """release-bot on an empty database: SQLite upgrades itself, Postgres gets `db upgrade`."""
    runner = Cli(database_url, pipelines_yml)
    if not database_url.startswith("sqlite"):
        assert runner.ok("db", "upgrade") == "database is up to date\n"
    return runner


@pytest.fixture
def sqlite_cli(tmp_path: Path, pipelines_yml: Path) -> Cli:
    """release-bot on a new SQLite file, for checks that do not depend on the database."""
    return Cli(f"sqlite:///{tmp_path / 'release-bot.db'}", pipelines_yml)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the README walk-through in the background once we know its test will run."""
    if readme_walkthrough.running is None and any(
        item.path.name == "test_cli_processes.py" for item in session.items
    ):
        readme_walkthrough.running = readme_walkthrough.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if readme_walkthrough.running is not None:
        readme_walkthrough.running.close()
        readme_walkthrough.running = None
