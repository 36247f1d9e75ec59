"""`kill -9` during a bake: the restarted bot ends the bake on time and repeats no message.

Timers live in the database, so the restarted process finds the bake where the killed one left
it; outbox rows already sent stay sent.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from release_bot.core.models import ReleaseState
from release_bot.storage import Database, OutboxStatus
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    CHANNEL,
    DEV,
    ServeFactory,
    direct_messages,
    now,
    ok_timer_events,
    outbox,
    replies_in,
    service_on,
    start_release,
    status_ts,
    texts,
    top_level_posts,
    updates_of,
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
        bake: 3s
      - name: Production
        environments: [production]
"""
# the sweep runs once a second; allow for that and a loaded machine, no more
PROMPTLY = timedelta(seconds=3)


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)


def test_sigkill_mid_bake_then_restart_advances_on_time_without_duplicates(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path
) -> None:
    first = serve_processes("first")
    service = service_on(database, pipelines)
    release = start_release(service, "new_checkout")
    assert release.id is not None and release.bake_ends_at is not None
    rid, bake_ends_at = release.id, release.bake_ends_at
    wait_until(
        lambda: status_ts(database, rid), 10, lambda: "the status message " + first.describe()
    )
    wait_until(lambda: not outbox(database, OutboxStatus.PENDING), 10, "the outbox to drain")

    first.kill()
    assert now() < bake_ends_at, "the process must die while the bake still runs"
    killed = service.release(rid)
    assert killed.state is ReleaseState.BAKING and killed.phase == 0

    second = serve_processes("second")
    serving_again = now()
    wait_until(lambda: ok_timer_events(service, "new_checkout"), 10, "the staging bake to end")
    [bake_end] = ok_timer_events(service, "new_checkout")
    # not before the bake's end, and promptly after it (or after the restart, if that was later)
    assert bake_end.at >= bake_ends_at
    assert bake_end.at <= max(bake_ends_at, serving_again) + PROMPTLY, (bake_end.at, bake_ends_at)

    ts = status_ts(database, rid)
    assert ts is not None
    wait_until(lambda: direct_messages(fake, DEV), 10, lambda: "completion " + second.describe())
    # production has no bake: the end of staging's bake completed the release, once
    assert service.release(rid).state is ReleaseState.COMPLETED
    assert len(ok_timer_events(service, "new_checkout")) == 1

    # one status message, kept up to date; one completion reply; one DM
    assert len(top_level_posts(fake)) == 1
    thread = texts(replies_in(fake, ts))
    assert len(thread) == 1 and "completed" in thread[0], thread
    assert len(direct_messages(fake, DEV)) == 1
    assert updates_of(fake, ts), "the status message was never updated after the restart"
    # and nothing is left to send or failed
    wait_until(lambda: not outbox(database, OutboxStatus.PENDING), 10, "the outbox to drain")
    assert outbox(database, OutboxStatus.FAILED) == []
