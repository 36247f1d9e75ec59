"""A release moves on its own through a real `release-bot serve`: bake, approval, reminders, end.

The release is started on the database the way the CLI does it; everything after that is the
serve process's doing: its sweeps end the bakes and send reminders, its delivery posts to the
fake Slack, and the approval is a signed click sent to its HTTP endpoint.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from release_bot.bot.slack.ids import ActionId
from release_bot.core.models import NoticeKind, ReleaseState
from release_bot.storage import Database
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    ALICE,
    CHANNEL,
    DEV,
    ServeFactory,
    button_value,
    direct_messages,
    is_broadcast,
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
members:
  "@approvers": [U0ALICE, U0BOB]
pipelines:
  standard:
    channel: {CHANNEL}
    remind_every: 1m  # the release is started with 2s and 4s: see service_on
    escalate_after: 1m
    escalate_to: ["@managers"]
    permissions:
      approve: ["@approvers"]
    phases:
      - name: Staging
        environments: [staging]
        bake: 1s
      - name: Production
        environments: [production]
        approval: {{groups: ["@approvers"], required: 1}}
        bake: 1s
"""
APPROVERS, MANAGERS = "<!subteam^S0APPR>", "<!subteam^S0MGR>"


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)


def test_a_release_bakes_waits_reminds_escalates_and_completes_on_its_own(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database, pipelines: Path
) -> None:
    bot = serve_processes()
    service = service_on(database, pipelines, remind_every=timedelta(seconds=2),
                         escalate_after=timedelta(seconds=4))
    release = start_release(service, "new_checkout")
    assert release.id is not None and release.bake_ends_at is not None
    rid = release.id

    # the status message is posted by the serve process, in the pipeline's channel
    wait_until(lambda: status_ts(database, rid), 10, lambda: "the status message " + bot.describe())
    ts = status_ts(database, rid)
    assert ts is not None
    assert [c.params["channel"] for c in top_level_posts(fake)] == [CHANNEL]
    assert f"#{rid}" in top_level_posts(fake)[0].params["text"]

    # the staging bake ends by itself: the approvers are asked, broadcast to the channel
    def replies() -> list[str]:
        return texts(replies_in(fake, ts))

    wait_until(lambda: any(APPROVERS in t for t in replies()), 10, "the approval announcement")
    announcement = replies_in(fake, ts)[0]
    assert APPROVERS in announcement.params["text"] and "waiting for approval" in str(
        announcement.params["text"]
    )
    assert is_broadcast(announcement)
    [bake_end] = ok_timer_events(service, "new_checkout")
    assert bake_end.at >= release.bake_ends_at
    assert service.release(rid).state is ReleaseState.AWAITING_APPROVAL

    # while nobody approves: a reminder to the approvers, then one escalation to the managers
    wait_until(lambda: any("Reminder" in t for t in replies()), 10, "a reminder")
    reminder = next(c for c in replies_in(fake, ts) if "Reminder" in c.params["text"])
    assert APPROVERS in reminder.params["text"] and not is_broadcast(reminder)
    wait_until(lambda: any(MANAGERS in t for t in replies()), 10, "the escalation")
    escalation = next(c for c in replies_in(fake, ts) if MANAGERS in c.params["text"])
    assert is_broadcast(escalation)

    # Alice clicks Approve on the status message as it stands now
    value = next(
        v
        for c in reversed(updates_of(fake, ts))
        if (v := button_value(c, ActionId.APPROVE.value)) is not None
    )
    approved_at, approved_mono = now(), time.monotonic()
    assert bot.click(fake, ALICE, ActionId.APPROVE.value, value, ts) == 200

    # production goes live, bakes, and the release completes: thread reply and a DM to the starter
    wait_until(lambda: any("completed" in t for t in replies()), 10, "the completion reply")
    wait_until(lambda: direct_messages(fake, DEV), 10, "the DM to the starter")
    [dm] = direct_messages(fake, DEV)
    assert f"#{rid}" in dm.params["text"] and "completed" in dm.params["text"]
    assert service.release(rid).state is ReleaseState.COMPLETED
    assert len(ok_timer_events(service, "new_checkout")) == 2

    # reminders stop with the approval: nothing more for one whole reminder period after it
    wait_until(lambda: time.monotonic() > approved_mono + 2.5, 5, "a reminder period")
    reminders = [
        m
        for m in outbox(database)
        if m.kind in (NoticeKind.REMINDER, NoticeKind.ESCALATION) and m.created_at > approved_at
    ]
    assert reminders == []
    thread = replies()
    approval = next(i for i, t in enumerate(thread) if f"<@{ALICE}> approved" in t)
    assert [t for t in thread[approval:] if "Reminder" in t or MANAGERS in t] == []

    # every message once, in order
    assert len(top_level_posts(fake)) == 1
    assert len(set(thread)) == len(thread), thread
    assert thread[0] == announcement.params["text"]
    assert [t for t in thread if MANAGERS in t] == [escalation.params["text"]]
    assert "completed" in thread[-1] and approval == len(thread) - 2
    assert len(direct_messages(fake, DEV)) == 1
