"""`release-bot serve` starting while Slack is away, or with a token Slack refuses.

Timers and the outbox live in the database, so a bot (re)started during a Slack outage must
keep ending bakes while it waits for Slack; a wrong token, on the other hand, is a mistake to
report in one sentence.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from release_bot.core.models import ReleaseState
from release_bot.storage import Database
from tests.support.fake_slack import Call, FakeSlack
from tests.support.scheduler_support import (
    CHANNEL,
    DEV,
    ServeFactory,
    direct_messages,
    ok_timer_events,
    once_per_database,
    replies_in,
    service_on,
    start_release,
    status_ts,
    top_level_posts,
    wait_until,
    write_pipelines,
)

PIPELINES = f"""
pipelines:
  standard:
    channel: {CHANNEL}
    phases:
      - name: Staging
        environments: [staging]
        bake: 1s
      - name: Production
        environments: [production]
        bake: 1s
"""


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)



def _wall(call: Call) -> datetime:
    """When the fake received a call, on the wall clock the bot's history uses."""
    return datetime.fromtimestamp(time.time() - time.monotonic() + call.at, UTC)


def test_timers_run_and_messages_go_while_slack_cannot_be_asked_at_start(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path
) -> None:
    once_per_database(database)
    service = service_on(database, pipelines)
    release = start_release(service, "new_checkout")
    assert release.id is not None
    rid = release.id
    # Slack's auth.test fails for a few seconds: each attempt is tried three times (two retries)
    fake.http_status("auth.test", 503, times=9)

    bot = serve_processes(ready=False)
    wait_until(
        lambda: service.release(rid).state is ReleaseState.COMPLETED,
        15,
        lambda: "the release to complete " + bot.describe(),
    )
    bot.wait_ready()  # health answers at once: it does not wait for Slack
    wait_until(
        lambda: any(c.status == 200 for c in fake.calls_to("auth.test")),
        30,
        lambda: "Slack to answer auth.test " + bot.describe(),
    )
    answered = next(c for c in fake.calls_to("auth.test") if c.status == 200)
    # both bakes ended before Slack answered auth.test: the timers did not wait for Slack
    assert [e.at < _wall(answered) for e in ok_timer_events(service, "new_checkout")] == [
        True,
        True,
    ]
    assert "Traceback" not in bot.stderr(), bot.describe()

    wait_until(lambda: direct_messages(fake, DEV), 10, "the DM to the starter")
    ts = status_ts(database, rid)
    assert ts is not None
    assert len(top_level_posts(fake)) == 1
    assert [c.params["text"] for c in replies_in(fake, ts) if "completed" in c.params["text"]]
    assert len(replies_in(fake, ts)) == 1


def test_a_token_slack_refuses_is_reported_in_one_sentence(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database
) -> None:
    once_per_database(database)
    bot = serve_processes(ready=False, SLACK_BOT_TOKEN="not-a-bot-token")
    code = bot.wait(30)
    assert code != 0
    assert "Slack refused SLACK_BOT_TOKEN: not_authed" in bot.stderr(), bot.describe()
    assert "Traceback" not in bot.stderr(), bot.describe()


def test_a_token_refused_once_slack_answers_stops_serve_in_one_sentence(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database
) -> None:
    """Slack away at start, then refusing the token: serve stops saying so, no traceback."""
    once_per_database(database)
    fake.http_status("auth.test", 503, times=3)  # the first attempt, with its two retries
    fake.fail("auth.test", "invalid_auth", times=5)
    bot = serve_processes(ready=False)
    code = bot.wait(30)
    assert code != 0, bot.describe()
    assert "Slack refused SLACK_BOT_TOKEN: invalid_auth" in bot.stderr(), bot.describe()
    assert "Warning" not in bot.stderr(), bot.describe()
    assert "Traceback" not in bot.stderr(), bot.describe()

