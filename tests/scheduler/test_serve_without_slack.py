"""`release-bot serve` with no Slack credentials: timers, health and HTTP run; Slack's
notifications are dropped rather than kept for a Slack that may never come."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from release_bot.core.models import ReleaseState
from release_bot.storage import Database
from release_bot.storage.outbox import OutboxStatus
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    ServeFactory,
    once_per_database,
    service_on,
    start_release,
    wait_until,
    write_pipelines,
)

PIPELINES = """
pipelines:
  standard:
    channel: C0RELEASES
    phases:
      - name: Staging
        environments: [staging]
        bake: 1s
"""


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)


def _outbox_statuses(database: Database) -> set[OutboxStatus]:
    with database.uow() as uow:
        return {row.status for row in uow.outbox.list()}


def test_serve_runs_timers_and_health_without_slack(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path
) -> None:
    once_per_database(database)
    service = service_on(database, pipelines)
    release = start_release(service, "new_checkout")
    assert release.id is not None

    bot = serve_processes(SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="")
    with urllib.request.urlopen(bot.url + "/healthz", timeout=5) as answer:
        assert answer.status == 200
    wait_until(
        lambda: service.release(release.id).state is ReleaseState.COMPLETED,
        15,
        lambda: "the release to complete " + bot.describe(),
    )
    wait_until(
        lambda: _outbox_statuses(database) == {OutboxStatus.DROPPED},
        15,
        lambda: f"Slack notifications to be dropped, not kept: {_outbox_statuses(database)} "
        + bot.describe(),
    )
    assert fake.calls == []
    assert "Slack is off (SLACK_BOT_TOKEN is not set)" in bot.stderr()
    assert bot.stderr().count("Slack is off") == 1
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            urllib.request.Request(bot.url + "/slack/events", data=b"{}"), timeout=5
        )
    assert refused.value.code == 404
