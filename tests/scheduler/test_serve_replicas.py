"""Two `release-bot serve` replicas on one Postgres: every bake ends once, every message goes once.

Both replicas sweep for due timers every second and both deliver the outbox; the compare-and-swap
on the release's revision and `FOR UPDATE SKIP LOCKED` claims must make them share the work
without doing any of it twice.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from release_bot.core.models import Action, Command, NoticeKind, ReleaseState
from release_bot.storage import Database, OutboxStatus
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    ALICE,
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
    timeline,
    top_level_posts,
    updates_of,
    wait_until,
    write_pipelines,
)

# Slack allows about one post a second per channel and 50 chat.update calls a minute, and the
# bot paces itself to match: 12 releases (and 2 waiting) fit in the bursts those limits allow.
REMINDER = NoticeKind.REMINDER
RELEASES = 12
CHANNELS = 4
GATED = 2  # releases waiting for approval meanwhile, one channel each


def _pipelines() -> str:
    text = 'members:\n  "@approvers": [U0ALICE]\npipelines:\n'
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
    for n in range(GATED):  # waiting for approval from the start (reminded every second)
        text += f"""
  gated{n}:
    channel: C0GATE{n}
    phases:
      - name: Everywhere
        environments: [staging, production]
        approval: {{groups: ["@approvers"], required: 1}}
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
    # a file's reminders are a minute apart at least; these releases are started with 1s
    service = service_on(database, pipelines, remind_every=timedelta(seconds=1))
    releases = {}
    for n in range(RELEASES):
        key, starter = f"flag{n:02d}", f"U0DEV{n:02d}"
        release = start_release(service, key, pipeline=f"p{n % CHANNELS}", starter=starter)
        assert release.id is not None
        releases[release.id] = (key, starter)

    waiting = {}
    for n in range(GATED):
        key, starter = f"gated{n}", f"U0WAIT{n}"
        release = start_release(service, key, pipeline=key, starter=starter)
        assert release.id is not None
        waiting[release.id] = (key, starter)

    def all_told(group: dict[int, tuple[str, str]]) -> bool:
        return all(direct_messages(fake, starter) for _, starter in group.values())

    def logs() -> str:
        told = "every starter told of the completion\n" + timeline(fake)
        return "\n".join([told, *(r.describe() for r in replicas)])

    wait_until(lambda: all_told(releases), 30, logs)
    # by now the waiting releases were due a reminder every second for several seconds
    for rid in waiting:
        service.act(Command(rid, Action.APPROVE, ALICE), now())
    wait_until(lambda: all_told(waiting), 15, logs)
    wait_until(lambda: not outbox(database, OutboxStatus.PENDING), 10, "the outbox to drain")

    posts = top_level_posts(fake)
    assert len(posts) == RELEASES + GATED
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

    # each due reminder was sent by one replica only: a second apart, each posted once
    for rid in waiting:
        sent = sorted(
            m.created_at for m in outbox(database) if m.release_id == rid and m.kind is REMINDER
        )
        assert len(sent) >= 2, (rid, sent)
        gaps = [(b - a).total_seconds() for a, b in zip(sent, sent[1:], strict=False)]
        assert min(gaps) >= 0.9, (rid, gaps)
        ts = status_ts(database, rid)
        assert ts is not None
        reminders = [t for t in texts(replies_in(fake, ts)) if "Reminder" in t]
        assert len(reminders) == len(sent) == len(set(reminders)), (rid, reminders)
