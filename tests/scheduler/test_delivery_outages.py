"""Slack failing for a while loses nothing and repeats nothing; a permanent error is kept.

These run the real Runtime in-process (tests/slack's RunningBot) so the test can script the fake
Slack and read the outbox while delivery runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_bot.bot.runtime.pipelines_file import parse_pipelines
from release_bot.bot.runtime.static_membership import StaticMembership
from release_bot.core.models import Action, Command, NoticeKind, ReleaseState
from release_bot.core.service import ReleaseService
from release_bot.storage import Database, OutboxStatus
from tests.support.fake_slack import Call, FakeSlack
from tests.support.harness import RunningBot
from tests.support.scheduler_support import (
    CHANNEL,
    DEV,
    direct_messages,
    free_port,
    now,
    outbox,
    replies_in,
    start_release,
    status_ts,
    texts,
    timeline,
    top_level_posts,
    updates_of,
    wait_until,
)

KEYS = ("alpha", "beta", "gamma")
# one channel per release below: Slack paces posts per channel, and so does the bot
CHANNELS = {"standard": CHANNEL, **{key: f"C0{key.upper()}" for key in KEYS}}
PIPELINE = """
  {name}:
    channel: {channel}
    phases:
      - name: Staging
        environments: [staging]
        bake: 1h
      - name: Production
        environments: [production]
        bake: 1h
"""
PIPELINES = "pipelines:" + "".join(
    PIPELINE.format(name=name, channel=channel) for name, channel in CHANNELS.items()
)
# the actions each release below goes through, and the thread replies they make, in order
ACTIONS = (Action.PAUSE, Action.SKIP, Action.FULL_ROLLOUT)
EXPECTED_THREAD = ("paused", "skipped", "rolled out", "completed")


@pytest.fixture
def bot(fake: FakeSlack, database: Database) -> Iterator[RunningBot]:
    running = RunningBot(fake, database, PIPELINES)
    yield running
    running.close()


def _drive(bot: RunningBot, key: str) -> int:
    """Start a release and take it through pause, skip and full roll out, as people would."""
    release = start_release(bot.service, key, pipeline=key)
    assert release.id is not None
    for action in ACTIONS:
        bot.service.act(Command(release.id, action, DEV), now())
    assert bot.service.release(release.id).state is ReleaseState.COMPLETED
    bot.runtime.slack.ctx.kick_delivery()  # as the Slack listeners do after each action
    return release.id


def _thread_of(fake: FakeSlack, database: Database, rid: int) -> list[str]:
    ts = status_ts(database, rid)
    return [] if ts is None else texts(replies_in(fake, ts))


def _same_message(a: Call, b: Call) -> bool:
    keys = ("channel", "ts", "thread_ts", "text")
    return a.method == b.method and all(a.params.get(k) == b.params.get(k) for k in keys)


def test_500s_and_429s_for_a_while_lose_nothing_and_repeat_nothing(
    bot: RunningBot, fake: FakeSlack, database: Database
) -> None:
    # each call retries a 500/503 twice itself before the outbox takes the message back
    fake.http_status("chat.postMessage", 500, times=5)
    fake.rate_limit("chat.postMessage", retry_after=1, times=2)
    fake.rate_limit("chat.update", retry_after=1, times=2)
    fake.http_status("chat.update", 503, times=3)

    rids = [_drive(bot, key) for key in KEYS]

    def everything_arrived() -> bool:
        return all(
            len(_thread_of(fake, database, rid)) >= len(EXPECTED_THREAD) for rid in rids
        ) and len(direct_messages(fake, DEV)) >= len(rids)

    wait_until(everything_arrived, 40, lambda: "every reply and DM\n" + timeline(fake))
    wait_until(lambda: not outbox(database, OutboxStatus.PENDING), 10, "the outbox to drain")

    # the outage really happened: every scripted failure was answered
    statuses = [c.status for c in fake.calls]
    assert (statuses.count(500), statuses.count(503), statuses.count(429)) == (5, 3, 4)
    # exactly once, in order, per release
    posts = top_level_posts(fake)
    assert sorted(c.params["channel"] for c in posts) == sorted(CHANNELS[k] for k in KEYS)
    for rid in rids:
        thread = _thread_of(fake, database, rid)
        assert len(thread) == len(EXPECTED_THREAD), (rid, thread)
        for text, expected in zip(thread, EXPECTED_THREAD, strict=True):
            assert expected in text, (rid, thread)
        assert all(f"#{rid} " in t for t in thread if "completed" in t)
        ts = status_ts(database, rid)
        assert ts is not None
        assert "completed" in str(updates_of(fake, ts)[-1].params["text"])
    dms = direct_messages(fake, DEV)
    assert sorted(str(c.params["text"]).split(" of ")[0] for c in dms) == sorted(
        f":white_check_mark: Release #{rid}" for rid in rids
    )
    assert outbox(database, OutboxStatus.FAILED) == []

    # Retry-After is honoured: a message answered 429 is not sent again within that second
    calls = fake.calls
    checked = 0
    for index, call in enumerate(calls):
        if call.status != 429:
            continue
        again = next((c for c in calls[index + 1 :] if _same_message(call, c)), None)
        if again is not None:
            checked += 1
            assert again.at - call.at >= 0.95, (call, again)
    assert checked > 0


def test_a_permanent_error_is_kept_as_failed_and_does_not_block_the_rest(
    bot: RunningBot, fake: FakeSlack, database: Database
) -> None:
    fake.fail("chat.postMessage", "channel_not_found", times=1)
    lost = start_release(bot.service, "lost")
    assert lost.id is not None
    bot.runtime.slack.ctx.kick_delivery()
    wait_until(lambda: outbox(database, OutboxStatus.FAILED), 10, "the failed row")

    [failed] = outbox(database, OutboxStatus.FAILED)
    assert (failed.release_id, failed.kind) == (lost.id, NoticeKind.RELEASE_STARTED)
    assert failed.last_error == "channel_not_found"
    assert len(fake.calls_to("chat.postMessage")) == 1, "a permanent error must not be retried"

    # the next release, and the next change of the failed one, are delivered as usual
    other = start_release(bot.service, "other")
    assert other.id is not None
    bot.service.act(Command(lost.id, Action.PAUSE, DEV), now())
    bot.runtime.slack.ctx.kick_delivery()
    wait_until(lambda: _thread_of(fake, database, lost.id or 0), 10, "the pause reply")
    wait_until(lambda: status_ts(database, other.id or 0), 10, "the other status message")
    assert "paused" in _thread_of(fake, database, lost.id)[0]
    assert outbox(database, OutboxStatus.FAILED) == [failed]


def test_slack_unreachable_is_retried_with_backoff_not_left_leased(
    bot: RunningBot, fake: FakeSlack, database: Database
) -> None:
    """A refused connection is an outage like a 500: the row is retried in seconds."""
    client = bot.runtime.slack.deliverer.client
    reachable = client.base_url
    client.base_url = f"http://127.0.0.1:{free_port()}/api/"
    release = start_release(bot.service, "unreachable")
    assert release.id is not None
    rid = release.id
    bot.runtime.slack.ctx.kick_delivery()

    def retry_scheduled() -> bool:
        rows = outbox(database, OutboxStatus.PENDING)
        return any(m.release_id == rid and m.attempts >= 1 for m in rows)

    wait_until(retry_scheduled, 10, "a retry to be scheduled after the refused connection")
    client.base_url = reachable
    wait_until(lambda: status_ts(database, rid), 15, "the status message once Slack is back")
    assert len(top_level_posts(fake, CHANNEL)) == 1


def test_a_rate_limited_release_does_not_hold_up_the_others(
    bot: RunningBot, fake: FakeSlack, database: Database
) -> None:
    """A 429 sends its message back to the outbox for Retry-After; the others go meanwhile."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("the worker's order of work does not depend on the database; once is enough")
    fake.rate_limit("chat.postMessage", retry_after=2, times=1)
    rids = [start_release(bot.service, key, pipeline=key).id or 0 for key in KEYS]
    bot.runtime.slack.ctx.kick_delivery()
    wait_until(lambda: all(status_ts(database, rid) for rid in rids), 15, "every status message")

    calls = fake.calls_to("chat.postMessage")
    limited = next(c for c in calls if c.status == 429)
    retried = next(c for c in calls if c.status == 200 and _same_message(limited, c))
    elsewhere = [c for c in calls if c.params["channel"] != limited.params["channel"]]
    others = [c for c in elsewhere if c.status == 200]
    assert len(others) == len(KEYS) - 1
    assert retried.at - limited.at >= 1.95, "Retry-After was not honoured"
    assert all(c.at < retried.at for c in others), "the other releases waited for the limited one"


GATED = f"""
members:
  "@approvers": [U0ALICE]
pipelines:
  gated:
    channel: {CHANNEL}
    phases:
      - name: Staging
        environments: [staging]
        bake: 1h
      - name: Canary
        environments: [production]
        percentage: 10
        approval: {{groups: ["@approvers"], required: 1}}
        bake: 1h
      - name: Production
        environments: [production]
        approval: {{groups: ["@managers"], required: 1}}
"""


def test_notices_sent_late_name_the_phase_and_ask_the_group_they_were_about(
    fake: FakeSlack, database: Database
) -> None:
    """The release moves on (from the CLI) while the bot is down; once it is up, the queued
    announcement of the canary's approval must still ask the canary's approvers about the
    canary, not describe where the release has got to since."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("rendering does not depend on the database; once is enough")
    config = parse_pipelines(GATED)
    cli = ReleaseService(database.uow, config.pipelines, StaticMembership(config.members))
    release = start_release(cli, "late", pipeline="gated")
    assert release.id is not None
    rid = release.id
    cli.act(Command(rid, Action.SKIP, DEV), now())  # the canary waits for approval
    cli.act(Command(rid, Action.APPROVE, "U0ALICE"), now())
    cli.act(Command(rid, Action.SKIP, DEV), now())  # production waits for approval

    bot = RunningBot(fake, database, GATED)
    try:

        def announcements() -> list[str]:
            return [t for t in _thread_of(fake, database, rid) if "waiting for approval" in t]

        wait_until(lambda: len(announcements()) == 2, 10, lambda: timeline(fake))
        canary, production = announcements()
        assert "*Canary*" in canary and "<!subteam^S0APPR>" in canary, canary
        assert "0 of 1" in canary, "Alice's later approval is counted in the old notice"
        assert "*Production*" in production and "<!subteam^S0MGR>" in production, production
    finally:
        bot.close()
