"""Fixtures for the scheduler/outbox tier: the fake Slack and `release-bot serve` subprocesses.

The fake Slack Web API lives in tests/slack; it is imported from there by module name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "slack"))

from fake_slack import FakeSlack  # noqa: E402
from scheduler_support import ServeFactory, add_groups  # noqa: E402

from release_bot.storage import Database  # noqa: E402


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A started fake Slack with the approvers and managers groups."""
    with FakeSlack() as slack:
        add_groups(slack)
        yield slack


@pytest.fixture
def serve_processes(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake: FakeSlack,
    database: Database,
    database_url: str,
) -> Iterator[ServeFactory]:
    """Start `release-bot serve` replicas on the migrated test database; all are killed after.

    The test module provides the pipelines file through a `pipelines` fixture.
    """
    pipelines: Path = request.getfixturevalue("pipelines")
    factory = ServeFactory(tmp_path, fake, database_url, pipelines)
    try:
        yield factory
    finally:
        factory.kill_all()
