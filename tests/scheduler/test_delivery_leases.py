"""Outbox leases: a slow batch is never sent twice, and a stopping worker gives its rows back.

Two Deliverers (as two replicas would run) share one database and the fake Slack; Slack answers
slowly so that a batch outlasts a (shortened) lease.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

import release_bot.storage.delivery as storage_delivery
from release_bot.bot.runtime.pipelines_file import parse_pipelines
from release_bot.bot.slack.client import make_web_client
from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.delivery import Deliverer
from release_bot.bot.slack.membership import SlackMembership
from release_bot.bot.slack.pacing import Pacer
from release_bot.core.models import Action, Command
from release_bot.core.service import ReleaseService
from release_bot.storage import Database, OutboxStatus
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.tables import OutboxRow
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.scheduler_support import (
    CHANNEL,
    DEV,
    direct_messages,
    now,
    outbox,
    replies_in,
    start_release,
    status_ts,
    texts,
    timeline,
    top_level_posts,
    wait_until,
)

PIPELINES = f"""
pipelines:
  standard:
    channel: {CHANNEL}
    phases:
      - name: Staging
        environments: [staging]
        bake: 1h
      - name: Production
        environments: [production]
        bake: 1h
"""
ACTIONS = (Action.PAUSE, Action.UNPAUSE, Action.PAUSE, Action.UNPAUSE, Action.FULL_ROLLOUT)
THREAD = ("paused", "resumed", "paused", "resumed", "rolled out", "completed")
SLOW_SLACK = 0.3  # seconds per chat.postMessage: eight of them outlast the lease below


class Replicas:
    """Deliverers over one database, each its own worker; stopped at the end of the test."""

    def __init__(self, fake: FakeSlack, database: Database) -> None:
        self.client = make_web_client(BOT_TOKEN, fake.base_url)
        membership = SlackMembership(self.client)
        pipelines = parse_pipelines(PIPELINES).pipelines
        self.service = ReleaseService(database.uow, pipelines, membership)
        self.ctx = SlackContext(self.service, membership, lambda: None, now)
        self.database = database
        self.running: list[Deliverer] = []

    def start(self, worker: str, batch_seconds: float) -> Deliverer:
        deliverer = Deliverer(
            SqlDeliveryQueue(self.database),
            self.client,
            self.ctx,
            threading.Event(),
            worker,
            threads=1,
            interval=0.05,
            batch_seconds=batch_seconds,
            pacer=Pacer(sleep=lambda seconds: None),  # Slack's slowness paces these tests
        )
        deliverer.start()
        self.running.append(deliverer)
        return deliverer

    def stop(self) -> None:
        for deliverer in self.running:
            deliverer.stop()

    def release_with_a_long_thread(self) -> int:
        """A release whose outbox holds a status message, six thread replies and a DM."""
        release = start_release(self.service, "slow")
        assert release.id is not None
        for action in ACTIONS:
            self.service.act(Command(release.id, action, DEV), now())
        return release.id


@pytest.fixture
def replicas(fake: FakeSlack, database: Database) -> Iterator[Replicas]:
    group = Replicas(fake, database)
    yield group
    group.stop()


def _thread(fake: FakeSlack, database: Database, rid: int) -> list[str]:
    ts = status_ts(database, rid)
    return [] if ts is None else texts(replies_in(fake, ts))


def _assert_sent_once_in_order(fake: FakeSlack, database: Database, rid: int) -> None:
    wait_until(lambda: direct_messages(fake, DEV), 15, lambda: "the DM\n" + timeline(fake))
    wait_until(lambda: not outbox(database, OutboxStatus.PENDING), 5, "the outbox to drain")
    assert len(top_level_posts(fake)) == 1, timeline(fake)
    thread = _thread(fake, database, rid)
    assert len(thread) == len(THREAD), timeline(fake)
    for text, expected in zip(thread, THREAD, strict=True):
        assert expected in text, timeline(fake)
    assert len(direct_messages(fake, DEV)) == 1
    assert len(fake.calls_to("chat.postMessage")) == 1 + len(THREAD) + 1, timeline(fake)


def test_a_batch_that_outlasts_the_lease_is_not_sent_twice(
    replicas: Replicas, fake: FakeSlack, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the batch below takes about 2.4 s, longer than the lease; so workers must give back in time
    monkeypatch.setattr(storage_delivery, "LEASE", timedelta(seconds=1.5))
    fake.delay("chat.postMessage", SLOW_SLACK)
    rid = replicas.release_with_a_long_thread()
    replicas.start("replica-a", batch_seconds=0.2)
    replicas.start("replica-b", batch_seconds=0.2)
    _assert_sent_once_in_order(fake, database, rid)


def test_a_stopping_worker_gives_back_its_batch_for_another_to_send_at_once(
    replicas: Replicas, fake: FakeSlack, database: Database
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("giving back is one plain UPDATE; the lease test above runs on both")
    fake.delay("chat.postMessage", SLOW_SLACK)
    rid = replicas.release_with_a_long_thread()
    first = replicas.start("first", batch_seconds=30)
    fake.wait_for("chat.postMessage", 2, timeout=10)
    first.stop()

    with database.sessions() as session:
        pending = session.scalars(
            select(OutboxRow).where(OutboxRow.status == OutboxStatus.PENDING.value)
        ).all()
        assert pending, "the batch was finished before the stop; nothing was given back"
        assert all(row.claimed_until is None for row in pending)

    # another worker takes them at once, not after the 2-minute lease
    replicas.start("second", batch_seconds=30)
    _assert_sent_once_in_order(fake, database, rid)
