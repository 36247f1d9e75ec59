"""A release waiting on a gate that only user groups Slack does not know could approve says so
in its status message, and how to get out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_bot.bot.slack.pacing import Pacer
from release_bot.storage import Database
from tests.support.fake_slack import FakeSlack
from tests.support.flows import start, status_posts, texts
from tests.support.harness import CHANNEL, RunningBot

WARNING = (":warning: Nobody can approve: Slack knows no user group @ghosts. Create it in Slack, "
           "or abort and correct the pipelines file.")


def _pipelines(groups: str) -> str:
    return f"""
pipelines:
  standard:
    channel: {CHANNEL}
    phases:
      - name: Production
        environments: [production]
        approval: {{groups: {groups}, required: 1}}
"""


@pytest.fixture
def running(fake_slack: FakeSlack, database: Database) -> Iterator[list[RunningBot]]:
    bots: list[RunningBot] = []
    yield bots
    for bot in bots:
        bot.close()


def _status_text(fake_slack: FakeSlack, database: Database, groups: str,
                 running: list[RunningBot]) -> str:
    bot = RunningBot(fake_slack, database, _pipelines(groups))
    bot.runtime.slack.deliverer.pacer = Pacer(sleep=lambda seconds: None)
    running.append(bot)
    start(bot)
    return texts(status_posts(bot.fake)[0].params["blocks"])


def test_a_gate_only_unknown_groups_could_approve_says_nobody_can(
    fake_slack: FakeSlack, database: Database, running: list[RunningBot]
) -> None:
    drawn = _status_text(fake_slack, database, '["@ghosts"]', running)
    assert "*Waiting for approval* of phase *Production*" in drawn
    assert WARNING in drawn


def test_one_known_group_is_enough_to_say_nothing(
    fake_slack: FakeSlack, database: Database, running: list[RunningBot]
) -> None:
    drawn = _status_text(fake_slack, database, '["@ghosts", "@approvers"]', running)
    assert "*Waiting for approval* of phase *Production*" in drawn
    assert "Nobody can approve" not in drawn
