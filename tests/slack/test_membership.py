"""SlackMembership answers from Slack user groups, caches them, and denies when Slack fails."""

from __future__ import annotations

import threading

import pytest
from slack_sdk import WebClient

from release_bot.bot.slack.client import make_web_client
from release_bot.bot.slack.membership import GRACE_FACTOR, SlackMembership
from release_bot.core.errors import MembershipUnavailable
from tests.support.fake_slack import BOT_TOKEN, FakeSlack

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
APPROVERS = "S0APPROVERS"
TTL = 300.0
LISTS, USERS = "usergroups.list", "usergroups.users.list"


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def membership(fake_slack: FakeSlack, slack_client: WebClient, clock: Clock) -> SlackMembership:
    fake_slack.set_group(APPROVERS, "approvers", [ALICE, BOB])
    return SlackMembership(slack_client, ttl_seconds=TTL, clock=clock)


def counts(fake: FakeSlack) -> tuple[int, int]:
    """How often usergroups.list and usergroups.users.list were called."""
    return len(fake.calls_to(LISTS)), len(fake.calls_to(USERS))


def test_handles_and_ids_answer_membership(membership: SlackMembership) -> None:
    assert membership.is_member(ALICE, "@approvers")
    assert not membership.is_member(CAROL, "@approvers")
    assert membership.is_member(BOB, APPROVERS)
    assert membership.group_id("@approvers") == membership.group_id("approvers") == APPROVERS
    assert membership.group_ids(["@approvers", "@nobody"]) == {"@approvers": APPROVERS}


def test_groups_slack_does_not_know_are_not_memberships_and_are_listed(
    membership: SlackMembership,
) -> None:
    assert not membership.is_member(ALICE, "@typo")
    assert not membership.is_member(ALICE, "S0NOPE")
    assert membership.unknown_groups() == {"@typo", "S0NOPE"}


def test_answers_are_cached_within_the_ttl(
    membership: SlackMembership, fake_slack: FakeSlack, clock: Clock
) -> None:
    for user in (ALICE, BOB, CAROL, ALICE):
        membership.is_member(user, "@approvers")
    clock.now += TTL - 1
    fake_slack.set_group(APPROVERS, "approvers", [BOB])
    assert membership.is_member(ALICE, "@approvers")
    assert counts(fake_slack) == (1, 1)


def test_expired_answers_are_fetched_again(
    membership: SlackMembership, fake_slack: FakeSlack, clock: Clock
) -> None:
    assert membership.is_member(ALICE, "@approvers")
    fake_slack.set_group(APPROVERS, "approvers", [BOB])
    clock.now += TTL
    assert not membership.is_member(ALICE, "@approvers")
    assert counts(fake_slack) == (2, 2)


def test_members_changed_events_update_the_cache_without_asking_slack(
    membership: SlackMembership, fake_slack: FakeSlack
) -> None:
    membership.is_member(ALICE, APPROVERS)
    membership.members_changed(APPROVERS, added=[CAROL], removed=[ALICE])
    assert membership.is_member(CAROL, APPROVERS)
    assert not membership.is_member(ALICE, APPROVERS)
    assert counts(fake_slack) == (0, 1)


def test_members_changed_for_an_uncached_group_leaves_it_to_slack(
    membership: SlackMembership, fake_slack: FakeSlack
) -> None:
    membership.members_changed(APPROVERS, added=[CAROL], removed=[])
    assert not membership.is_member(CAROL, APPROVERS)
    assert counts(fake_slack) == (0, 1)


def test_group_updated_renames_the_handle_and_replaces_members(
    membership: SlackMembership, fake_slack: FakeSlack
) -> None:
    membership.is_member(ALICE, "@approvers")
    membership.group_updated(
        {"id": APPROVERS, "handle": "release-approvers", "users": [CAROL], "user_count": 1}
    )
    assert membership.is_member(CAROL, "@release-approvers")
    assert not membership.is_member(ALICE, "@release-approvers")
    assert not membership.is_member(CAROL, "@approvers")
    assert counts(fake_slack) == (1, 1)


def test_group_updated_with_truncated_users_makes_the_next_ask_fetch(
    membership: SlackMembership, fake_slack: FakeSlack
) -> None:
    membership.is_member(ALICE, APPROVERS)
    membership.group_updated({"id": APPROVERS, "users": [CAROL], "user_count": 501})
    assert membership.is_member(ALICE, APPROVERS)
    assert counts(fake_slack) == (0, 2)


def test_a_disabled_group_has_no_members(membership: SlackMembership) -> None:
    assert membership.is_member(ALICE, "@approvers")
    membership.group_updated({"id": APPROVERS, "handle": "approvers", "date_delete": 1700000000})
    assert not membership.is_member(ALICE, "@approvers")
    assert not membership.is_member(ALICE, APPROVERS)


def test_forget_drops_the_cache(membership: SlackMembership, fake_slack: FakeSlack) -> None:
    membership.is_member(ALICE, "@approvers")
    membership.forget()
    membership.is_member(ALICE, "@approvers")
    assert counts(fake_slack) == (2, 2)


@pytest.mark.parametrize(
    ("method", "error", "says"),
    [
        (LISTS, "plan_upgrade_required", "need a paid Slack plan; list user ids (U…)"),
        (USERS, "plan_upgrade_required", "need a paid Slack plan; list user ids (U…)"),
        (LISTS, "missing_scope", "usergroups:read scope"),
        (USERS, "internal_error", "(internal_error)"),
    ],
)
def test_slack_errors_deny_with_a_sentence(
    membership: SlackMembership, fake_slack: FakeSlack, method: str, error: str, says: str
) -> None:
    fake_slack.fail(method, error)
    with pytest.raises(MembershipUnavailable, match="@approvers") as raised:
        membership.is_member(ALICE, "@approvers")
    assert says in raised.value.message


def test_lasting_server_errors_and_rate_limits_deny(
    membership: SlackMembership, fake_slack: FakeSlack
) -> None:
    fake_slack.http_status(USERS, 500, times=3)
    with pytest.raises(MembershipUnavailable, match="HTTP 500"):
        membership.is_member(ALICE, APPROVERS)
    fake_slack.rate_limit(USERS, retry_after=0, times=3)
    with pytest.raises(MembershipUnavailable, match="rate-limiting"):
        membership.is_member(ALICE, APPROVERS)


def test_unreachable_slack_denies(fake_slack: FakeSlack, clock: Clock) -> None:
    membership = SlackMembership(make_web_client(BOT_TOKEN, fake_slack.base_url), clock=clock)
    fake_slack.stop()
    with pytest.raises(MembershipUnavailable, match="could not be reached"):
        membership.is_member(ALICE, APPROVERS)


def test_a_slack_timeout_denies(
    fake_slack: FakeSlack, slack_client: WebClient, membership: SlackMembership
) -> None:
    fake_slack.delay(USERS, 5)
    slack_client.timeout = 0.2  # type: ignore[assignment]  # urllib takes float seconds
    with pytest.raises(MembershipUnavailable, match="did not answer in time"):
        membership.is_member(ALICE, APPROVERS)


def test_a_stale_answer_is_served_only_within_the_grace_period(
    membership: SlackMembership, fake_slack: FakeSlack, clock: Clock
) -> None:
    assert membership.is_member(ALICE, "@approvers")
    clock.now += TTL * GRACE_FACTOR - 1
    fake_slack.fail(LISTS, "internal_error")
    fake_slack.fail(USERS, "internal_error")
    assert membership.is_member(ALICE, "@approvers")
    clock.now += 1
    fake_slack.fail(LISTS, "internal_error")
    with pytest.raises(MembershipUnavailable):
        membership.is_member(ALICE, "@approvers")
    assert membership.is_member(ALICE, "@approvers")  # Slack answers again


def test_concurrent_askers_share_one_fetch(
    membership: SlackMembership, fake_slack: FakeSlack
) -> None:
    fake_slack.delay(LISTS, 0.2)
    fake_slack.delay(USERS, 0.2)
    start = threading.Barrier(20)
    answers: list[bool] = []

    def ask() -> None:
        start.wait()
        answers.append(membership.is_member(ALICE, "@approvers"))

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [True] * 20
    assert counts(fake_slack) == (1, 1)
