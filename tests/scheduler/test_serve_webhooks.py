"""A real `release-bot serve` sends every event of a release to the pipeline's webhook, signed,
in order, beside its Slack messages — and without Slack too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from release_bot.storage import Database
from release_bot.storage.outbox import OutboxStatus
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    CHANNEL,
    ServeFactory,
    service_on,
    start_release,
    top_level_posts,
    wait_until,
    write_pipelines,
)
from tests.support.webhook_receiver import SECRET, Receiver

SECRET_ENV = "RELEASE_HOOK_SECRET"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver verifying signatures with the secret serve is given."""
    with Receiver() as running:
        yield running


@pytest.fixture
def pipelines(tmp_path: Path, receiver: Receiver) -> Path:
    return write_pipelines(tmp_path, f"""
pipelines:
  standard:
    channel: {CHANNEL}
    webhooks:
      - url: {receiver.url}
        secret_env: {SECRET_ENV}
    phases:
      - name: Staging
        environments: [staging]
        bake: 1s
      - name: Production
        environments: [production]
        bake: 1s
""")


def test_serve_sends_each_event_of_a_release_to_its_webhook_in_order(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path,
    receiver: Receiver,
) -> None:
    serve = serve_processes(**{SECRET_ENV: SECRET})
    release = start_release(service_on(database, pipelines), "checkout")
    wait_until(lambda: len(receiver.delivered()) >= 3, 20,
               lambda: f"webhooks so far: {receiver.types()}\n{serve.describe()}")
    assert receiver.types() == ["release.started", "release.phase_live", "release.completed"]
    assert {r.body["data"]["release"] for r in receiver.delivered()} == {release.id}
    assert receiver.bad_signatures == 0
    assert top_level_posts(fake, CHANNEL), "Slack was told as well"


def test_serve_without_slack_still_sends_webhooks_and_drops_only_slack_messages(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path,
    receiver: Receiver,
) -> None:
    serve = serve_processes(SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="", **{SECRET_ENV: SECRET})
    release = start_release(service_on(database, pipelines), "checkout")
    wait_until(lambda: len(receiver.delivered()) >= 3, 20,
               lambda: f"webhooks so far: {receiver.types()}\n{serve.describe()}")
    assert receiver.types() == ["release.started", "release.phase_live", "release.completed"]

    def statuses() -> set[tuple[str, OutboxStatus]]:
        with database.uow() as uow:
            return {(row.target, row.status) for row in uow.outbox.list()
                    if row.release_id == release.id}

    wait_until(lambda: statuses() == {("slack", OutboxStatus.DROPPED),
                                      (receiver.url, OutboxStatus.SENT)}, 15,
               lambda: f"outbox: {statuses()}")
    assert fake.calls == []
