"""`release-bot serve` asks Slack once, at start, whether the user groups its pipelines file
names exist, and logs each use of one that does not — without holding up the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_bot.storage import Database
from tests.support.fake_slack import FakeSlack
from tests.support.scheduler_support import (
    CHANNEL,
    ServeFactory,
    once_per_database,
    wait_until,
    write_pipelines,
)

PIPELINES = f"""
pipelines:
  standard:
    channel: {CHANNEL}
    escalate_to: ["@ghosts"]
    permissions:
      skip: ["@managers", "@nobody-here"]
    phases:
      - name: Staging
        environments: [staging]
      - name: Production
        environments: [production]
        approval: {{groups: ["@approvers", "@ghosts"], required: 1}}
"""
FIX = "— create the group in Slack or correct the handle in the pipelines file"


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)



def test_each_use_of_a_handle_slack_does_not_know_is_logged_with_its_place(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database
) -> None:
    once_per_database(database)
    bot = serve_processes()
    expected = [
        f"pipeline 'standard', permissions, skip: Slack knows no user group @nobody-here, so "
        f"nobody can act through it {FIX}",
        f"pipeline 'standard', phase 2 ('Production'), approval: Slack knows no user group "
        f"@ghosts, so nobody can act through it {FIX}",
        f"pipeline 'standard', escalate_to: Slack knows no user group @ghosts, so nobody can "
        f"act through it {FIX}",
    ]
    wait_until(lambda: all(line in bot.stderr() for line in expected), 10, bot.describe)
    log = bot.stderr()
    assert "@approvers" not in log and "@managers" not in log, bot.describe()
    assert "ERROR" not in log and "Traceback" not in log, bot.describe()
    assert len(fake.calls_to("usergroups.list")) == 1, "one question for every handle"


def test_when_slack_cannot_say_one_line_tells_so_and_serve_runs_on(
    serve_processes: ServeFactory, fake: FakeSlack, database: Database
) -> None:
    once_per_database(database)
    fake.http_status("usergroups.list", 503, times=100)
    bot = serve_processes()
    line = ("could not ask Slack whether the user groups of the pipelines file exist; each is "
            "checked when it is used")
    wait_until(lambda: line in bot.stderr(), 15, bot.describe)
    assert bot.stderr().count("Slack knows no user group") == 0
    assert "Traceback" not in bot.stderr(), bot.describe()
    bot.wait_ready(timeout=1)
