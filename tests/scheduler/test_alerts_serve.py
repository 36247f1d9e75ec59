"""A real `release-bot serve` with RELEASE_BOT_ALERT_TOKEN: an Alertmanager alert pauses the
release it names, and the channel hears of it from the status message's thread, its approvers
mentioned."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from release_bot.core.durations import format_duration
from release_bot.core.models import ReleaseState
from release_bot.storage import Database
from tests.support.alertmanager import alert, webhook
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    CHANNEL,
    ServeFactory,
    is_broadcast,
    replies_in,
    service_on,
    start_release,
    status_ts,
    texts,
    wait_until,
    write_pipelines,
)

TOKEN = "s3cret-alert-token"
PIPELINES = f"""
pipelines:
  standard:
    channel: {CHANNEL}
    permissions:
      approve: ["@approvers"]
    phases:
      - name: Staging
        environments: [staging]
        bake: 1h
"""


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)


def test_an_alert_pauses_the_release_and_its_thread_hears_why(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path
) -> None:
    bot = serve_processes(RELEASE_BOT_ALERT_TOKEN=TOKEN)
    service = service_on(database, pipelines)
    release = start_release(service, "new_checkout")
    assert release.id is not None
    rid = release.id
    wait_until(lambda: status_ts(database, rid) is not None, 15,
               lambda: "the status message " + bot.describe())

    request = urllib.request.Request(
        bot.url + "/alerts/alertmanager", method="POST",
        data=webhook(alert("CheckoutErrors", "new_checkout", summary="errors above 1%")),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.load(answer)["results"][0]["outcome"] == f"Release #{rid} paused."
    paused = service.release(rid)
    assert paused.state is ReleaseState.PAUSED and paused.remaining is not None
    left = format_duration(paused.remaining)

    ts = status_ts(database, rid)
    assert ts is not None
    wait_until(lambda: any("CheckoutErrors" in t for t in texts(replies_in(fake, ts))), 15,
               lambda: "the reply in the thread " + bot.describe())
    [reply] = [c for c in replies_in(fake, ts) if "CheckoutErrors" in str(c.params["text"])]
    assert is_broadcast(reply)
    assert str(reply.params["text"]) == (
        ":double_vertical_bar: <!subteam^S0APPR>: the guardrail paused the bake timer of phase "
        f"*Staging* with {left} left — release #{rid} of `new_checkout`, phase *Staging* — "
        "because Alertmanager alert *CheckoutErrors* is firing: errors above 1%.")
