"""Fixtures for the Slack tier: a running fake Slack Web API and a WebClient pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_slack import BOT_TOKEN, FakeSlack
from slack_sdk import WebClient

from release_bot.bot.slack.client import make_web_client


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack on a free port, stopped after the test."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> WebClient:
    """The bot's WebClient (retries included) talking to fake_slack."""
    return make_web_client(BOT_TOKEN, base_url=fake_slack.base_url)
