"""SIGTERM (what `docker stop` and Kubernetes send) stops `release-bot serve` cleanly, quickly."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from release_bot.storage import Database
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    CHANNEL,
    ServeFactory,
    service_on,
    start_release,
    status_ts,
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
        bake: 1h
"""
PROMPT_SECONDS = 5


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)


def test_sigterm_exits_promptly_with_code_0_and_no_traceback(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path
) -> None:
    bot = serve_processes()
    release = start_release(service_on(database, pipelines), "new_checkout")
    assert release.id is not None
    rid = release.id
    wait_until(lambda: status_ts(database, rid), 10, "the status message")

    bot.signal(signal.SIGTERM)
    started = time.monotonic()
    code = bot.wait(PROMPT_SECONDS + 10)
    took = time.monotonic() - started

    assert code == 0, bot.describe()
    assert took < PROMPT_SECONDS, f"took {took:.1f}s; " + bot.describe()
    assert "Traceback" not in bot.stderr(), bot.describe()
    # and the log was not flooded with a line or two for every once-a-second sweep
    assert "Sweeper.sweep" not in bot.stderr().split("Scheduler started")[-1], bot.describe()


def test_sigterm_while_slack_hangs_still_exits_promptly(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path
) -> None:
    """A delivery stuck in a slow Slack call must not hold the shutdown for long."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("how long stopping takes does not depend on the database; once is enough")
    bot = serve_processes()
    fake.delay("chat.postMessage", 60)
    service = service_on(database, pipelines)
    for key in ("a", "b", "c", "d", "e"):
        start_release(service, key)
    fake.wait_for("chat.postMessage", 1, timeout=10)

    bot.signal(signal.SIGTERM)
    started = time.monotonic()
    code = bot.wait(60)
    took = time.monotonic() - started

    assert took < PROMPT_SECONDS, f"took {took:.1f}s; " + bot.describe()
    assert code == 0, bot.describe()
    assert "Traceback" not in bot.stderr(), bot.describe()
