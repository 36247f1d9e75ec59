"""Fixtures for the Slack tier: a running fake Slack Web API and a WebClient pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from release_bot.bot.slack.client import make_web_client
from release_bot.bot.slack.pacing import Pacer
from release_bot.storage import Database
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.harness import RunningBot


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack on a free port, stopped after the test."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> WebClient:
    """The bot's WebClient (retries included) talking to fake_slack."""
    return make_web_client(BOT_TOKEN, base_url=fake_slack.base_url)


@pytest.fixture
def bot(fake_slack: FakeSlack, database: Database) -> Iterator[RunningBot]:
    """release-bot serving on a free port against fake_slack and a fresh database.

    Delivery does not pace itself here (the fake enforces no rate limits unless asked to, and
    pacing has tests of its own in tests/scheduler): a release's few thread replies would
    otherwise wait a second each for Slack's one-message-per-second-per-channel.
    """
    running = RunningBot(fake_slack, database)
    running.runtime.slack.deliverer.pacer = Pacer(sleep=lambda seconds: None)
    yield running
    running.close()
