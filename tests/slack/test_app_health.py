"""The health check answers without Slack."""

from __future__ import annotations

from tests.support.flows import api_calls
from tests.support.harness import RunningBot


def test_healthz(bot: RunningBot) -> None:
    since = len(bot.fake.calls)

    answer = bot.get("/healthz")

    assert (answer.status, answer.body) == (200, b"ok\n")
    assert api_calls(bot.fake, since) == []
    assert bot.get("/nope").status == 404
