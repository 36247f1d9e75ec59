"""Fixtures for the scheduler/outbox tier: the fake Slack and `release-bot serve` subprocesses.

The fake Slack Web API and the serve harness live in tests.support.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from release_bot.storage import Database
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import ServeFactory, add_groups


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
