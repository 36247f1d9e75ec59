"""Two `release-bot serve` replicas on one Postgres: every bake ends once, every message goes once.

Both replicas sweep for due timers every second and both deliver the outbox; the compare-and-swap
on the release's revision and `FOR UPDATE SKIP LOCKED` claims must make them share the work
without doing any of it twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_slack import FakeSlack
from scheduler_support import (
    ServeFactory,
    direct_messages,
    ok_timer_events,
    outbox,
    replies_in,
    service_on,
    start_release,
    status_ts,
    timeline,
    top_level_posts,
    updates_of,
    wait_until,
    write_pipelines,
)

from release_bot.core.models import ReleaseState
from release_bot.storage import Database, OutboxStatus

# Slack allows about one post a second per channel and 50 chat.update calls a minute, and the
# bot paces itself to match: 16 releases fit in the bursts those limits allow.
RELEASES = 16
CHANNELS = 4


def _pipelines() -> str:
    text = "pipelines:\n"
    for n in range(CHANNELS):
        text += f"""
  p{n}:
    channel: C0REL{n}
    phases:
      - name: Staging
        environments: [staging]
        bake: 1s
      - name: Production
        environments: [production]
        bake: 2s
"""
    return text


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, _pipelines())


def test_two_replicas_advance_each_release_once_and_send_each_message_once(
    serve_processes: ServeFactory,
    fake: FakeSlack,
    database: Database,
    database_url: str,
    pipelines: Path,
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("replicas share a Postgres database; a SQLite file belongs to one process")
    replicas = [serve_processes("replica", ready=False) for _ in range(2)]
    for replica in replicas:
        replica.wait_ready()
    service = service_on(database, pipelines)
    releases = {}
    for n in range(RELEASES):
        key, starter = f"flag{n:02d}", f"U0DEV{n:02d}"
        release = start_release(service, key, pipeline=f"p{n % CHANNELS}", starter=starter)
        assert release.id is not None
        releases[release.id] = (key, starter)

    def all_told() -> bool:
        return all(direct_messages(fake, starter) for _, starter in releases.values())

    def logs() -> str:
        told = "every starter told of the completion\n" + timeline(fake)
        return "\n".join([told, *(r.describe() for r in replicas)])

    wait_until(all_told, 30, logs)
    wait_until(lambda: not outbox(database, OutboxStatus.PENDING), 10, "the outbox to drain")

    posts = top_level_posts(fake)
    assert len(posts) == RELEASES
    for rid, (key, starter) in releases.items():
        assert service.release(rid).state is ReleaseState.COMPLETED
        timers = ok_timer_events(service, key)
        assert len(timers) == 2, (key, timers)
        mine = [c for c in posts if str(c.params["text"]).startswith(f"Release #{rid} of ")]
        assert len(mine) == 1, (rid, mine)
        ts = status_ts(database, rid)
        assert ts is not None
        thread = replies_in(fake, ts)
        assert len(thread) == 1 and "completed" in thread[0].params["text"], (rid, thread)
        assert len(direct_messages(fake, starter)) == 1
        # the last update shows where the release ended, never an older state
        assert "completed" in str(updates_of(fake, ts)[-1].params["text"]).lower(), rid
    assert outbox(database, OutboxStatus.FAILED) == []
