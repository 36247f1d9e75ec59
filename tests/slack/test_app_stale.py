"""A click drawn for an older phase is refused as out of date and the message is redrawn."""

from __future__ import annotations

from release_bot.core.models import Outcome, ReleaseState
from tests.support.flows import (
    StatusMessage,
    attempts,
    click,
    confirm,
    control_values,
    open_confirmation,
    start,
    texts,
    to_approval,
    updates,
    wait_for_new,
    wait_state,
)
from tests.support.harness import ALICE, BOB, CHANNEL, DEV, RunningBot


def at_production(bot: RunningBot) -> StatusMessage:
    """A release waiting for the approvals of its last phase, Production."""
    status = start(bot)
    to_approval(bot, status)
    click(bot, ALICE, f"approve:{status.release_id}:1", status)
    wait_state(bot, status.release_id, ReleaseState.BAKING, 1)
    confirm(bot, DEV, f"skip:{status.release_id}:1", status)
    wait_state(bot, status.release_id, ReleaseState.AWAITING_APPROVAL, 2)
    return status


def assert_redrawn_current(bot: RunningBot, status: StatusMessage, since: int, ts: str) -> None:
    """The clicked message now shows phase Production waiting, with an Approve for phase 2."""
    [redraw] = wait_for_new(bot.fake, "chat.update", since)
    assert (redraw.params["channel"], redraw.params["ts"]) == (CHANNEL, ts)
    assert "*Waiting for approval* of phase *Production*" in texts(redraw.params["blocks"])
    assert f"approve:{status.release_id}:2" in control_values(redraw.params["blocks"])


def test_stale_approve_is_refused_and_the_message_redrawn(bot: RunningBot) -> None:
    status = at_production(bot)
    since = len(bot.fake.calls)

    # BOB clicks Approve on a copy of the message drawn while Production canary waited.
    old_copy = "1699999999.000001"
    target = f"approve:{status.release_id}:1"
    answer = bot.click(BOB, "release_approve", target, message_ts=old_copy)

    assert answer.status == 200
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert reply.params["response_type"] == "ephemeral"
    assert "out of date" in reply.params["text"]
    assert "*Production canary*" in reply.params["text"]
    assert_redrawn_current(bot, status, since, old_copy)
    release = bot.service.release(status.release_id)
    assert (release.state, release.phase, release.approvers(2)) == (
        ReleaseState.AWAITING_APPROVAL,
        2,
        (),
    )
    [refused] = attempts(bot, "approve", Outcome.REFUSED)
    assert (refused.actor, refused.phase, refused.rule) == (BOB, 1, "ActionIsForCurrentPhase")
    assert [e.actor for e in attempts(bot, "approve", Outcome.OK)] == [ALICE]


def test_stale_overflow_choice_is_refused_without_a_modal(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    since, opened = len(bot.fake.calls), len(bot.fake.calls_to("views.open"))

    # Pause, drawn while Staging baked, picked after the release moved to Production canary.
    bot.click(
        DEV, "release_more", f"pause:{status.release_id}:0", message_ts=status.ts, overflow=True
    )

    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "out of date" in reply.params["text"]
    assert "*Staging*" in reply.params["text"]
    [redraw] = wait_for_new(bot.fake, "chat.update", since)
    assert (redraw.params["channel"], redraw.params["ts"]) == (status.channel, status.ts)
    assert "*Waiting for approval* of phase *Production canary*" in texts(redraw.params["blocks"])
    assert f"approve:{status.release_id}:1" in control_values(redraw.params["blocks"])
    assert len(bot.fake.calls_to("views.open")) == opened
    assert bot.service.release(status.release_id).state is ReleaseState.AWAITING_APPROVAL
    assert updates(bot.fake, since) == [redraw]


def test_click_on_a_finished_release_is_out_of_date(bot: RunningBot) -> None:
    status = start(bot)
    confirm(bot, DEV, f"abort:{status.release_id}:0", status, reason="wrong flag")
    wait_state(bot, status.release_id, ReleaseState.ABORTED)
    since = len(bot.fake.calls)

    bot.click(
        DEV, "release_more", f"pause:{status.release_id}:0", message_ts=status.ts, overflow=True
    )

    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "was aborted, which cannot be undone" in reply.params["text"]
    [redraw] = wait_for_new(bot.fake, "chat.update", since)
    assert "*Aborted*" in texts(redraw.params["blocks"])
    assert not control_values(redraw.params["blocks"])


def test_confirmation_submitted_after_the_release_moved_on(bot: RunningBot) -> None:
    status = start(bot)
    view = open_confirmation(bot, DEV, f"pause:{status.release_id}:0", status)
    to_approval(bot, status, user=ALICE)  # while DEV reads the modal, ALICE skips Staging
    since = len(bot.fake.calls)

    answer = bot.submit(DEV, view["callback_id"], view["private_metadata"], {})

    assert answer.status == 200 and answer.body == b""
    [reply] = wait_for_new(bot.fake, "chat.postEphemeral", since)
    assert (reply.params["channel"], reply.params["user"]) == (CHANNEL, DEV)
    assert "out of date" in reply.params["text"]
    [redraw] = wait_for_new(bot.fake, "chat.update", since)
    assert (redraw.params["channel"], redraw.params["ts"]) == (status.channel, status.ts)
    assert f"approve:{status.release_id}:1" in control_values(redraw.params["blocks"])
    assert bot.service.release(status.release_id).state is ReleaseState.AWAITING_APPROVAL
    [refused] = attempts(bot, "pause", Outcome.REFUSED)
    assert (refused.actor, refused.rule) == (DEV, "ActionIsForCurrentPhase")
