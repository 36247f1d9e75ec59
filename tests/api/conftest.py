"""A running release-bot (its API beside Slack on one port), a fake Slack, and CLI tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_bot.bot.slack.pacing import Pacer
from release_bot.storage import Database
from tests.support.api_world import API_PIPELINES, ApiWorld
from tests.support.fake_slack import FakeSlack
from tests.support.harness import RunningBot


def _world(database: Database, database_url: str, rate_limit: str) -> Iterator[ApiWorld]:
    with FakeSlack() as fake:
        bot = RunningBot(fake, database, API_PIPELINES, api_rate_limit=rate_limit)
        bot.slack.deliverer.pacer = Pacer(sleep=lambda seconds: None)
        yield ApiWorld(bot, database_url)
        bot.close()


@pytest.fixture
def world(database: Database, database_url: str) -> Iterator[ApiWorld]:
    """release-bot serving the API, its tokens' shares out of the way."""
    yield from _world(database, database_url, "1000/second")


@pytest.fixture
def limited(database: Database, database_url: str) -> Iterator[ApiWorld]:
    """release-bot allowing each token 3 requests a minute."""
    yield from _world(database, database_url, "3/minute")
