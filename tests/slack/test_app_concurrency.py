"""Two approvers click Approve at the same moment: one phase advances once, or both count."""

from __future__ import annotations

import threading

from release_bot.core.models import Outcome, ReleaseState
from tests.support.flows import (
    StatusMessage,
    attempts,
    click,
    confirm,
    ephemerals,
    start,
    thread_replies,
    to_approval,
    wait_state,
)
from tests.support.harness import ALICE, BOB, DEV, Response, RunningBot


def click_together(bot: RunningBot, status: StatusMessage, users: list[str], phase: int) -> None:
    """Every user clicks Approve for `phase` at the same moment, each from their own thread."""
    barrier = threading.Barrier(len(users))
    answers: list[Response] = []

    def approve(user: str) -> None:
        barrier.wait()
        answers.append(click(bot, user, f"approve:{status.release_id}:{phase}", status))

    threads = [threading.Thread(target=approve, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [a.status for a in answers] == [200] * len(users)


def test_one_approval_needed_two_clicks_advance_once(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    since = len(bot.fake.calls)

    click_together(bot, status, [ALICE, BOB], phase=1)

    # Both clicks are answered: one by the thread reply, the other privately.
    bot.wait_until(lambda: ephemerals(bot.fake, since))
    release = wait_state(bot, status.release_id, ReleaseState.BAKING, 1)
    ok = attempts(bot, "approve", Outcome.OK)
    refused = [e for e in attempts(bot, "approve") if e.outcome is not Outcome.OK]
    assert len(ok) == 1 and len(refused) == 1
    assert {ok[0].actor, refused[0].actor} == {ALICE, BOB}
    assert release.approvers(1) == (ok[0].actor,)
    assert refused[0].outcome is Outcome.REFUSED
    assert refused[0].rule == "ActionFitsState"
    [private] = ephemerals(bot.fake, since)
    assert private.method == "response_url"
    assert refused[0].message == private.params["text"].replace("*", "")
    assert "already approved and live" in private.params["text"]
    approved = [
        c for c in thread_replies(bot.fake, status, since) if "approved phase" in c.params["text"]
    ]
    assert len(approved) == 1
    assert (
        f"<@{ok[0].actor}> approved phase *Production canary* (1 of 1)"
        in approved[0].params["text"]
    )


def test_two_approvals_needed_both_clicks_count(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    click(bot, ALICE, f"approve:{status.release_id}:1", status)
    wait_state(bot, status.release_id, ReleaseState.BAKING, 1)
    confirm(bot, DEV, f"skip:{status.release_id}:1", status)
    wait_state(bot, status.release_id, ReleaseState.AWAITING_APPROVAL, 2)
    since = len(bot.fake.calls)

    click_together(bot, status, [ALICE, BOB], phase=2)

    release = wait_state(bot, status.release_id, ReleaseState.COMPLETED)
    assert set(release.approvers(2)) == {ALICE, BOB}
    ok = [e for e in attempts(bot, "approve", Outcome.OK) if e.phase == 2]
    assert sorted(e.actor for e in ok) == sorted([ALICE, BOB])
    assert sorted(e.message for e in ok) == [
        "approved phase Production (1 of 2)",
        "approved phase Production (2 of 2)",
    ]
    assert ephemerals(bot.fake, since) == []
    assert bot.service.evaluate("new_checkout", "production", "unit-1", {}) is True
