"""The ⋯ menu: it opens a confirmation modal naming its target; Abort insists on a reason."""

from __future__ import annotations

import json

from release_bot.bot.slack.ids import BlockId, CallbackId
from release_bot.core.models import Outcome, ReleaseState
from tests.support.flows import (
    StatusMessage,
    api_calls,
    attempts,
    ephemerals,
    events,
    open_confirmation,
    reason_values,
    start,
    texts,
    wait_state,
)
from tests.support.harness import CHANNEL, DEV, RunningBot


def test_overflow_opens_a_confirmation_naming_its_target(bot: RunningBot) -> None:
    status = start(bot)

    view = open_confirmation(bot, DEV, f"pause:{status.release_id}:0", status)

    assert view["type"] == "modal"
    assert view["callback_id"] == CallbackId.CONFIRM_ACTION.value
    assert json.loads(view["private_metadata"]) == {
        "target": f"pause:{status.release_id}:0",
        "channel": CHANNEL,
        "ts": status.ts,
    }
    assert "Pause the bake timer of phase *Staging*" in texts(view["blocks"])
    opened = bot.fake.calls_to("views.open")[-1]
    assert opened.params["trigger_id"].startswith(f"trigger-{DEV}-")
    # Opening the modal changes nothing yet.
    assert bot.service.release(status.release_id).state is ReleaseState.BAKING
    assert not attempts(bot, "pause")


def send_back_then_abort(bot: RunningBot, status: StatusMessage, reason: str | None) -> None:
    """An abort without a reason is sent back to the form and changes nothing.

    Changing nothing is checked at once and again after a proper abort went all the way
    through — work the bot might wrongly have started for the bad submission shows by then.
    """
    view = open_confirmation(bot, DEV, f"abort:{status.release_id}:0", status)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == [BlockId.REASON.value]
    assert inputs[0].get("optional", False) is False
    since, history = len(bot.fake.calls), len(events(bot))

    answer = bot.submit(DEV, view["callback_id"], view["private_metadata"], reason_values(reason))

    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    assert "why" in body["errors"][BlockId.REASON.value].lower()
    assert bot.service.release(status.release_id).state is ReleaseState.BAKING
    assert len(events(bot)) == history

    bot.submit(DEV, view["callback_id"], view["private_metadata"], reason_values("bad data"))
    wait_state(bot, status.release_id, ReleaseState.ABORTED)
    assert [(e.action, e.outcome, e.reason) for e in events(bot, since=history)] == [
        ("abort", Outcome.OK, "bad data")
    ]
    assert ephemerals(bot.fake, since) == []
    assert [c.method for c in api_calls(bot.fake, since)].count("chat.update") == 1


def test_abort_without_a_reason_is_sent_back_to_the_form(bot: RunningBot) -> None:
    status = start(bot)
    send_back_then_abort(bot, status, None)


def test_abort_with_a_blank_reason_is_sent_back_to_the_form(bot: RunningBot) -> None:
    status = start(bot)
    send_back_then_abort(bot, status, "   \n ")
