"""Web API calls per click: with group membership cached, an Approve costs at most 3 calls."""

from __future__ import annotations

from release_bot.core.models import Outcome, ReleaseState
from tests.support.flows import api_calls, attempts, click, start, to_approval, wait_state
from tests.support.harness import ALICE, OUTSIDER, RunningBot

MAX_CALLS_PER_APPROVE = 3


def test_an_approve_click_costs_at_most_three_web_api_calls(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    # Warm the cache of @approvers: an outsider's click looks the group up (and is denied).
    click(bot, OUTSIDER, f"approve:{status.release_id}:1", status)
    bot.wait_until(lambda: attempts(bot, "approve", Outcome.DENIED))
    since = len(bot.fake.calls)

    click(bot, ALICE, f"approve:{status.release_id}:1", status)

    wait_state(bot, status.release_id, ReleaseState.BAKING, 1)  # and every notification sent
    calls = [c.method for c in api_calls(bot.fake, since)]
    assert len(calls) <= MAX_CALLS_PER_APPROVE, calls
    assert sorted(calls) == ["chat.postMessage", "chat.update"]
