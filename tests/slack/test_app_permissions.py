"""Who may act: denials by group, no self-approval, and Slack unable to say who is in a group."""

from __future__ import annotations

from release_bot.core.models import Outcome, ReleaseState
from tests.support.flows import (
    StatusMessage,
    api_calls,
    attempts,
    click,
    confirm,
    ephemerals,
    events,
    start,
    thread_replies,
    to_approval,
    updates,
    wait_for_new,
)
from tests.support.harness import ALICE, BOB, CHANNEL, DEV, OUTSIDER, RunningBot


def assert_unchanged(bot: RunningBot, status: StatusMessage, since: int) -> None:
    """The release did not move and nothing was posted or redrawn in the channel."""
    release = bot.service.release(status.release_id)
    assert (release.state, release.phase, release.approvals) == (
        ReleaseState.AWAITING_APPROVAL,
        1,
        (),
    )
    assert thread_replies(bot.fake, status, since) == []
    assert updates(bot.fake, since) == []


def test_outsider_approval_is_denied_naming_the_group(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    since = len(bot.fake.calls)

    answer = click(bot, OUTSIDER, f"approve:{status.release_id}:1", status)

    assert answer.status == 200
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params.get("replace_original") is False
    assert "only @approvers may" in reply.params["text"]
    [denied] = attempts(bot, "approve")  # recorded before the reply is sent
    assert (denied.actor, denied.outcome, denied.rule) == (
        OUTSIDER,
        Outcome.DENIED,
        "ActorIsPermitted",
    )
    assert_unchanged(bot, status, since)


def test_full_roll_out_by_a_non_manager_is_denied_in_private(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    since = len(bot.fake.calls)

    answer = confirm(bot, DEV, f"full_rollout:{status.release_id}:1", status)

    assert answer.status == 200
    [reply] = wait_for_new(bot.fake, "chat.postEphemeral", since)
    assert (reply.params["channel"], reply.params["user"]) == (CHANNEL, DEV)
    assert "only @managers may" in reply.params["text"]
    [denied] = attempts(bot, "full_rollout")
    assert (denied.actor, denied.outcome) == (DEV, Outcome.DENIED)
    assert_unchanged(bot, status, since)


def test_the_person_who_started_a_release_cannot_approve_it(bot: RunningBot) -> None:
    status = start(bot, user=ALICE)
    to_approval(bot, status, user=ALICE)
    since = len(bot.fake.calls)

    click(bot, ALICE, f"approve:{status.release_id}:1", status)

    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "You started release #1" in reply.params["text"]
    assert "does not allow approving your own release" in reply.params["text"]
    [denied] = attempts(bot, "approve")
    assert (denied.actor, denied.outcome, denied.rule) == (ALICE, Outcome.DENIED, "NoSelfApproval")
    assert_unchanged(bot, status, since)

    # Somebody else's approval counts.
    click(bot, BOB, f"approve:{status.release_id}:1", status)
    bot.wait_until(lambda: bot.service.release(status.release_id).state is ReleaseState.BAKING)


def membership_denied(bot: RunningBot, status: StatusMessage, since: int) -> str:
    """ALICE (an approver) clicks Approve while Slack cannot list @approvers: denied."""
    click(bot, ALICE, f"approve:{status.release_id}:1", status)
    [reply] = wait_for_new(bot.fake, "response_url", since)
    [denied] = attempts(bot, "approve")
    assert (denied.actor, denied.outcome, denied.rule) == (
        ALICE,
        Outcome.DENIED,
        "MembershipUnavailable",
    )
    assert_unchanged(bot, status, since)
    text: str = reply.params["text"]
    assert "@approvers" in text
    return text


def test_free_plan_without_user_groups_denies_with_a_clear_sentence(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    bot.fake.fail("usergroups.users.list", "plan_upgrade_required")
    since = len(bot.fake.calls)

    text = membership_denied(bot, status, since)

    assert "need a paid Slack plan" in text
    assert "user ids (U…)" in text


def test_slack_failing_to_list_members_denies_after_retries(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    bot.fake.http_status("usergroups.users.list", 500, times=5)
    since = len(bot.fake.calls)

    text = membership_denied(bot, status, since)

    assert "Slack failed (HTTP 500)" in text
    lookups = [c for c in api_calls(bot.fake, since) if c.method == "usergroups.users.list"]
    assert len(lookups) == 3  # the first try and two retries, every one failing


def test_member_added_by_an_event_may_approve_without_another_lookup(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    # OUTSIDER is denied; that lookup fills the cache of @approvers.
    click(bot, OUTSIDER, f"approve:{status.release_id}:1", status)
    bot.wait_until(lambda: attempts(bot, "approve", Outcome.DENIED))
    lookups = len(bot.fake.calls_to("usergroups.users.list"))

    answer = bot.event(
        {
            "type": "subteam_members_changed",
            "subteam_id": "S0APPR",
            "team_id": "T0FAKE",
            "added_users": [OUTSIDER],
            "added_users_count": "1",
            "removed_users": [],
            "removed_users_count": "0",
        }
    )
    assert answer.status == 200

    # Slack itself still lists the old members: only the event can have let OUTSIDER in.
    history = len(events(bot))
    click(bot, OUTSIDER, f"approve:{status.release_id}:1", status)
    bot.wait_until(lambda: bot.service.release(status.release_id).state is ReleaseState.BAKING)
    assert [(e.actor, e.outcome) for e in events(bot, since=history)] == [(OUTSIDER, Outcome.OK)]
    assert len(bot.fake.calls_to("usergroups.users.list")) == lookups


def test_member_removed_by_an_event_is_denied(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    # OUTSIDER is denied; that lookup fills the cache of @approvers.
    click(bot, OUTSIDER, f"approve:{status.release_id}:1", status)
    bot.wait_until(lambda: attempts(bot, "approve", Outcome.DENIED))

    answer = bot.event(
        {
            "type": "subteam_members_changed",
            "subteam_id": "S0APPR",
            "added_users": [],
            "removed_users": [ALICE],
        }
    )
    assert answer.status == 200
    since = len(bot.fake.calls)
    click(bot, ALICE, f"approve:{status.release_id}:1", status)

    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "only @approvers may" in reply.params["text"]
    assert ephemerals(bot.fake, since) == [reply]
    assert_unchanged(bot, status, since)
