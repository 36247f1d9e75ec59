"""A release service on a test database and a Sweeper that reads a clock the test moves.

No sleeping through bakes: `sweep_at` sets the clock and calls `sweep()` the way the scheduler
calls it once a second.
"""

from __future__ import annotations

from datetime import UTC, datetime

from release_bot.bot.runtime.pipelines_file import parse_pipelines
from release_bot.bot.runtime.static_membership import StaticMembership
from release_bot.bot.runtime.sweeper import Sweeper
from release_bot.core.models import FlagKind, NoticeKind
from release_bot.core.service import ReleaseService
from release_bot.storage import Database

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
ALICE, DEV = "U0ALICE", "U0DEV"
PIPELINES = """
members:
  "@approvers": [U0ALICE]
pipelines:
  timed:
    channel: C0TIMED
    phases:
      - name: Staging
        environments: [staging]
        bake: 10m
      - name: Production
        environments: [production]
        bake: 20m
  gated:
    channel: C0GATED
    remind_every: 1h
    escalate_after: 3h
    escalate_to: ["@managers"]
    phases:
      - name: Staging
        environments: [staging]
        bake: 10m
      - name: Production
        environments: [production]
        approval: {groups: ["@approvers"], required: 1}
"""


class Clock:
    """The time the Sweeper sees."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class Rig:
    """A service on the test database, a Sweeper reading a fake clock, and its doorbell count."""

    def __init__(self, database: Database) -> None:
        config = parse_pipelines(PIPELINES)
        self.database = database
        self.service = ReleaseService(
            database.uow, config.pipelines, StaticMembership(config.members)
        )
        self.clock = Clock(T0)
        self.rings = 0
        self.sweeper = Sweeper(self.service, self.clock, self._ring)

    def _ring(self) -> None:
        self.rings += 1

    def start(self, key: str, pipeline: str, at: datetime) -> int:
        self.service.create_flag(key, FlagKind.GATE, pipeline, False, DEV, at)
        release = self.service.start_release(key, True, DEV, at)
        assert release.id is not None
        return release.id

    def sweep_at(self, at: datetime) -> int:
        self.clock.at = at
        return self.sweeper.sweep()

    def timer_events(self, key: str) -> int:
        return sum(1 for e in self.service.history(key) if e.action == "timer")

    def notices(self, rid: int, kind: NoticeKind) -> int:
        with self.database.uow() as uow:
            return sum(1 for m in uow.outbox.list() if m.release_id == rid and m.kind is kind)
