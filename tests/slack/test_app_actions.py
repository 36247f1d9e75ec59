"""Every action end to end: the status message is redrawn in place, the thread says who did what,
the release moved in the database and the flag's history has the event."""

from __future__ import annotations

from release_bot.core.models import Outcome, ReleaseState
from tests.support.flows import (
    FLAG,
    StatusMessage,
    attempts,
    click,
    confirm,
    control_values,
    settle,
    start,
    status_posts,
    texts,
    thread_replies,
    to_approval,
    updates,
    wait_for_new,
    wait_state,
)
from tests.support.harness import ALICE, BOB, DEV, MGR, RunningBot


def assert_redrawn(bot: RunningBot, status: StatusMessage, since: int, *shows: str) -> str:
    """The status message was updated in place (not reposted) and its blocks show `shows`."""
    redraws = updates(bot.fake, since)
    assert redraws, "the status message was not updated"
    for call in redraws:
        assert (call.params["channel"], call.params["ts"]) == (status.channel, status.ts)
    assert len(status_posts(bot.fake)) == 1, "a second status message was posted"
    drawn = texts(redraws[-1].params["blocks"])
    for phrase in shows:
        assert phrase in drawn
    return drawn


def assert_thread_says(bot: RunningBot, status: StatusMessage, since: int, *says: str) -> None:
    """A reply in the status message's thread says each of `says`."""
    replies = "\n".join(c.params["text"] for c in thread_replies(bot.fake, status, since))
    for phrase in says:
        assert phrase in replies


def test_approve_button_puts_the_phase_live(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    since = len(bot.fake.calls)

    answer = click(bot, ALICE, f"approve:{status.release_id}:1", status)

    assert answer.status == 200
    release = wait_state(bot, status.release_id, ReleaseState.BAKING, 1)
    assert release.approvers(1) == (ALICE,)
    drawn = assert_redrawn(bot, status, since, "*Baking* phase *Production canary*")
    assert "Waiting for approval" not in drawn
    blocks = updates(bot.fake, since)[-1].params["blocks"]
    assert f"pause:{status.release_id}:1" in control_values(blocks)
    assert f"approve:{status.release_id}:1" not in control_values(blocks)
    assert_thread_says(
        bot, status, since, f"<@{ALICE}> approved phase *Production canary* (1 of 1)"
    )
    ok = attempts(bot, "approve", Outcome.OK)
    assert [(e.actor, e.phase, e.to_state) for e in ok] == [(ALICE, 1, "baking(1)")]


def test_pause_stops_the_bake_timer(bot: RunningBot) -> None:
    status = start(bot)
    since = len(bot.fake.calls)

    answer = confirm(bot, DEV, f"pause:{status.release_id}:0", status)

    assert answer.status == 200
    release = wait_state(bot, status.release_id, ReleaseState.PAUSED, 0)
    assert release.remaining is not None and release.bake_ends_at is None
    assert_redrawn(bot, status, since, "*Paused* in phase *Staging*")
    blocks = updates(bot.fake, since)[-1].params["blocks"]
    assert f"unpause:{status.release_id}:0" in control_values(blocks)
    assert_thread_says(bot, status, since, f"<@{DEV}> paused the bake timer of phase *Staging*")
    assert [e.actor for e in attempts(bot, "pause", Outcome.OK)] == [DEV]


def test_unpause_resumes_the_bake_timer(bot: RunningBot) -> None:
    status = start(bot)
    confirm(bot, DEV, f"pause:{status.release_id}:0", status)
    wait_state(bot, status.release_id, ReleaseState.PAUSED)
    since = len(bot.fake.calls)

    answer = confirm(bot, ALICE, f"unpause:{status.release_id}:0", status)

    assert answer.status == 200
    release = wait_state(bot, status.release_id, ReleaseState.BAKING, 0)
    assert release.bake_ends_at is not None and release.remaining is None
    assert_redrawn(bot, status, since, "*Baking* phase *Staging*")
    assert_thread_says(bot, status, since, f"<@{ALICE}> resumed the bake timer of phase *Staging*")
    assert [e.actor for e in attempts(bot, "unpause", Outcome.OK)] == [ALICE]


def test_skip_ends_the_bake_and_stops_at_the_next_gate(bot: RunningBot) -> None:
    status = start(bot)
    since = len(bot.fake.calls)

    answer = confirm(bot, DEV, f"skip:{status.release_id}:0", status)

    assert answer.status == 200
    wait_state(bot, status.release_id, ReleaseState.AWAITING_APPROVAL, 1)
    assert_redrawn(bot, status, since, "*Waiting for approval* of phase *Production canary*")
    blocks = updates(bot.fake, since)[-1].params["blocks"]
    assert f"approve:{status.release_id}:1" in control_values(blocks)
    assert_thread_says(
        bot,
        status,
        since,
        f"<@{DEV}> skipped the rest of the bake of phase *Staging*",
        "is waiting for approval",
    )
    assert [e.actor for e in attempts(bot, "skip", Outcome.OK)] == [DEV]


def test_abort_with_a_reason_rolls_everything_back(bot: RunningBot) -> None:
    status = start(bot)
    since = len(bot.fake.calls)

    answer = confirm(
        bot, DEV, f"abort:{status.release_id}:0", status, reason="checkout errors doubled"
    )

    assert answer.status == 200
    wait_state(bot, status.release_id, ReleaseState.ABORTED)
    drawn = assert_redrawn(bot, status, since, "*Aborted*")
    assert not control_values(updates(bot.fake, since)[-1].params["blocks"])
    assert "Release #" in drawn
    assert_thread_says(
        bot, status, since, f"<@{DEV}> aborted the release", "> checkout errors doubled"
    )
    [event] = attempts(bot, "abort", Outcome.OK)
    assert (event.actor, event.reason, event.to_state) == (
        DEV,
        "checkout errors doubled",
        "aborted",
    )
    assert bot.service.evaluate(FLAG, "staging", "unit-1", {}) is False


def test_full_roll_out_completes_the_release(bot: RunningBot) -> None:
    status = start(bot)
    since = len(bot.fake.calls)

    answer = confirm(bot, MGR, f"full_rollout:{status.release_id}:0", status)

    assert answer.status == 200
    wait_state(bot, status.release_id, ReleaseState.COMPLETED)
    assert_redrawn(bot, status, since, "*Completed*")
    assert not control_values(updates(bot.fake, since)[-1].params["blocks"])
    assert_thread_says(
        bot, status, since, f"<@{MGR}> rolled out every remaining phase at once", "completed"
    )
    assert [e.actor for e in attempts(bot, "full_rollout", Outcome.OK)] == [MGR]
    for environment in ("staging", "production"):
        assert bot.service.evaluate(FLAG, environment, "unit-1", {}) is True


def test_full_roll_out_while_a_phase_waits_for_approval(bot: RunningBot) -> None:
    """Full Roll Out does not wait for the approvals still missing."""
    status = start(bot)
    to_approval(bot, status)
    since = len(bot.fake.calls)

    confirm(bot, MGR, f"full_rollout:{status.release_id}:1", status)

    release = wait_state(bot, status.release_id, ReleaseState.COMPLETED)
    assert release.approvers(1) == ()
    assert_redrawn(bot, status, since, "*Completed*")
    assert_thread_says(bot, status, since, f"<@{MGR}> rolled out every remaining phase at once")


def test_an_approver_counts_once_towards_two_approvals(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    click(bot, ALICE, f"approve:{status.release_id}:1", status)
    wait_state(bot, status.release_id, ReleaseState.BAKING, 1)
    confirm(bot, DEV, f"skip:{status.release_id}:1", status)
    wait_state(bot, status.release_id, ReleaseState.AWAITING_APPROVAL, 2)
    first = len(bot.fake.calls)
    click(bot, ALICE, f"approve:{status.release_id}:2", status)
    bot.wait_until(lambda: bot.service.release(status.release_id).approvers(2) == (ALICE,))
    settle(bot)
    assert_redrawn(bot, status, first, "1 of 2 approvals from", f"approved by <@{ALICE}>")
    since = len(bot.fake.calls)

    click(bot, ALICE, f"approve:{status.release_id}:2", status)

    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "You have already approved phase *Production* (1 of 2 approvals)" in reply.params["text"]
    assert bot.service.release(status.release_id).approvers(2) == (ALICE,)
    click(bot, BOB, f"approve:{status.release_id}:2", status)
    wait_state(bot, status.release_id, ReleaseState.COMPLETED)
    assert_thread_says(bot, status, since, f"<@{BOB}> approved phase *Production* (2 of 2)")
