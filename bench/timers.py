"""Bake-timer lag and idle sweep cost with 10,000 active releases; a 100-release burst vs Slack.

Per database: 10,000 baking releases (one made by ReleaseService, the rest copied from its rows
in bulk; set-up is timed apart and not counted). The real Sweeper runs on the real clock:
  * idle: every bake ends an hour out; the process CPU the sweeps use over --idle-seconds,
    as % of one core (on Postgres, beside it, the CPU of the server processes serving it);
  * lag: the bake ends are then moved to spread evenly over --spread-seconds, a few seconds
    ahead; per release, lag = `at` of its OK `timer` history event − its bake end. The event's
    `at` is the sweep's start, so the lag to the advance's commit (updated_at) is shown as well.
  * burst: a whole bot (RunningBot) against FakeSlack(enforce_limits=True), --burst releases
    whose status messages are already posted and whose bakes end at the same moment; the Slack
    calls and 429s until every resulting outbox row is delivered.
Targets: lag p99 <= 1 s; idle sweeps <= 5% of one core; 0 answers 429.

    .venv/bin/python -m bench.timers [--releases 10000] [--spread-seconds 60]
                                     [--idle-seconds 20] [--burst 100]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, event, func, insert, select, text, update

from bench.common import backends, fresh_database, percentile, pipeline
from bench.transitions import NoGroups
from release_bot.bot.runtime.pipelines_file import parse_pipelines
from release_bot.bot.runtime.sweeper import Sweeper
from release_bot.core.machine import TIMER_ACTION
from release_bot.core.models import FlagKind, Outcome, ReleaseState
from release_bot.core.service import ReleaseService
from release_bot.storage.database import Database
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.outbox import OutboxStatus
from release_bot.storage.tables import (
    EventRow,
    FlagRow,
    FlagVersionRow,
    OutboxRow,
    ReleaseRow,
)
from tests.support.fake_slack import FakeSlack
from tests.support.harness import CHANNEL, DEV, PIPELINES, RunningBot

LEAD = 5.0  # seconds between the end of a set-up and the first bake end


def utc_now() -> datetime:
    """The wall clock in UTC (what `serve` gives the Sweeper)."""
    return datetime.now(UTC)


def table(row: type) -> Table:
    """The Core table of a mapped class."""
    return row.__table__  # type: ignore[attr-defined, no-any-return]


class TimedSweeper(Sweeper):
    """The real Sweeper, noting when each sweep started, how long it took and what it moved."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sweeps: list[tuple[float, float, int]] = []

    def sweep(self) -> int:
        """Sweep, and record (start, seconds, moved)."""
        started = time.perf_counter()
        moved = super().sweep()
        self.sweeps.append((started, time.perf_counter() - started, moved))
        return moved


class SkippedRuns(logging.Handler):
    """Counts APScheduler's "skipped: maximum number of running instances reached" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count the skipped runs; keep them off stderr."""
        if "maximum number of running instances" in record.getMessage():
            self.count += 1


def backend_pids(database: Database) -> set[int]:
    """The server pids of this engine's Postgres connections, as they are opened from now on."""
    pids: set[int] = set()

    @event.listens_for(database.engine, "connect")
    def note(dbapi_connection: Any, record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.add(cursor.fetchone()[0])
        dbapi_connection.rollback()

    database.engine.dispose()
    return pids


def server_cpu(pids: set[int]) -> dict[int, float]:
    """CPU seconds used so far by each of these (local) server processes, by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        used[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return used


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes alive at the end used since `before` (new ones: all of it)."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


# --- set-up -----------------------------------------------------------------------------------


def create_releases(database: Database, count: int) -> list[int]:
    """`count` releases baking phase 0 for an hour: one through the service, the rest copied."""
    bench = pipeline()
    service = ReleaseService(database.uow, {bench.name: bench}, NoGroups())
    now = utc_now()
    service.create_flag("timer_0", FlagKind.GATE, bench.name, False, DEV, now)
    template = service.start_release("timer_0", True, DEV, now)
    keys = [f"timer_{i}" for i in range(1, count)]
    with database.engine.begin() as connection:

        def rows(row: type, *where: Any) -> list[dict[str, Any]]:
            found = connection.execute(select(table(row)).where(*where)).mappings().all()
            return [{k: v for k, v in r.items() if k != "id"} for r in found]

        flag = rows(FlagRow, FlagRow.key == "timer_0")[0]
        versions = rows(FlagVersionRow, FlagVersionRow.flag_key == "timer_0")
        release = rows(ReleaseRow, ReleaseRow.id == template.id)[0]
        events = rows(EventRow, EventRow.flag_key == "timer_0")
        outbox = rows(OutboxRow, OutboxRow.release_id == template.id)
        if keys:
            connection.execute(insert(table(FlagRow)), [flag | {"key": k, "salt": k} for k in keys])
            connection.execute(
                insert(table(FlagVersionRow)), [v | {"flag_key": k} for k in keys for v in versions]
            )
            connection.execute(
                insert(table(ReleaseRow)),
                [release | {"flag_key": k, "active_flag_key": k} for k in keys],
            )
        ids = dict(connection.execute(select(ReleaseRow.flag_key, ReleaseRow.id)).all())
        if keys:
            connection.execute(
                insert(table(EventRow)),
                [
                    e | {"flag_key": k, "release_id": None if e["release_id"] is None else ids[k]}
                    for k in keys
                    for e in events
                ],
            )
            connection.execute(
                insert(table(OutboxRow)), [o | {"release_id": ids[k]} for k in keys for o in outbox]
            )
    if database.engine.dialect.name == "postgresql":  # what autovacuum would soon do anyway
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE")
            )
    return [ids[k] for k in ["timer_0", *keys]]


def reschedule(database: Database, ends: dict[int, datetime]) -> None:
    """Set the bake ends of baking releases (a set-up step: their timers, moved in storage)."""
    statement = (
        update(table(ReleaseRow))
        .where(table(ReleaseRow).c.id == bindparam("release_id"))
        .values(bake_ends_at=bindparam("ends"))
    )
    with database.engine.begin() as connection:
        connection.execute(statement, [{"release_id": i, "ends": e} for i, e in ends.items()])


# --- timers -----------------------------------------------------------------------------------


def idle_and_lag(kind: str, releases: int, spread: float, idle: float) -> dict[str, Any]:
    """Idle sweep CPU, then the lag of `releases` bake ends spread over `spread` seconds."""
    result: dict[str, Any] = {}
    with fresh_database(kind, "bench_timers") as database:
        started = time.perf_counter()
        ids = create_releases(database, releases)
        result["setup"] = time.perf_counter() - started
        bench = pipeline()
        service = ReleaseService(database.uow, {bench.name: bench}, NoGroups())
        pids = backend_pids(database) if kind == "postgres" else set()
        sweeper = TimedSweeper(service, utc_now, lambda: None)
        skipped = SkippedRuns()
        scheduler_log = logging.getLogger("apscheduler")
        scheduler_log.addHandler(skipped)
        sweeper.start()
        try:
            time.sleep(2.5)  # the first sweeps, with their cold caches, are not idle cost
            cpu, server, opened = time.process_time(), server_cpu(pids), time.perf_counter()
            time.sleep(idle)
            wall = time.perf_counter() - opened
            result["idle_cpu"] = (time.process_time() - cpu) / wall
            after = server_cpu(pids)
            result["idle_server"] = cpu_between(server, after) / wall if after else None
            window = [s for s in sweeper.sweeps if s[0] >= opened]
            result["idle_sweeps"] = len(window)
            result["idle_sweep_ms"] = sum(s[1] for s in window) / max(1, len(window)) * 1000

            first = utc_now() + timedelta(seconds=LEAD)
            ends = {rid: first + timedelta(seconds=spread * n / releases)
                    for n, rid in enumerate(ids)}
            skipped.count = 0
            begin = len(sweeper.sweeps)
            reschedule(database, ends)
            deadline = time.monotonic() + LEAD + spread + 300
            while sum(s[2] for s in sweeper.sweeps[begin:]) < releases:
                if time.monotonic() > deadline:
                    raise AssertionError("the sweeps did not advance every release in time")
                time.sleep(0.2)
        finally:
            sweeper.stop()
            scheduler_log.removeHandler(skipped)
        with database.engine.connect() as connection:
            at = dict(
                connection.execute(
                    select(EventRow.release_id, EventRow.at).where(
                        EventRow.action == TIMER_ACTION, EventRow.outcome == Outcome.OK.value
                    )
                ).all()
            )
            committed = dict(
                connection.execute(select(ReleaseRow.id, ReleaseRow.updated_at)).all()
            )
        result["lag"] = [(at[i] - ends[i]).total_seconds() for i in ids]
        result["applied"] = [(committed[i] - ends[i]).total_seconds() for i in ids]
        busy = [s for s in sweeper.sweeps[begin:] if s[2]]
        result["busy_sweeps"] = len(busy)
        result["longest"] = max(s[1] for s in busy)
        result["per_advance_ms"] = sum(s[1] for s in busy) / releases * 1000
        result["skipped"] = skipped.count
    return result


# --- the burst --------------------------------------------------------------------------------


def burst(kind: str, count: int) -> dict[str, Any]:
    """Slack calls and 429s while `count` releases' simultaneous bake ends are delivered."""
    with FakeSlack(enforce_limits=True) as fake, fresh_database(kind, "bench_burst") as database:
        config = parse_pipelines(PIPELINES)
        service = ReleaseService(database.uow, config.pipelines, NoGroups())
        now = utc_now()
        ids: list[int] = []
        for i in range(count):
            service.create_flag(f"burst_{i}", FlagKind.GATE, "standard", False, DEV, now)
            release = service.start_release(f"burst_{i}", True, DEV, now)
            assert release.id is not None
            ids.append(release.id)
        queue = SqlDeliveryQueue(database)  # as if the bot had posted every status message
        for rid in ids:
            queue.set_status_message(rid, CHANNEL, f"1700000000.{rid:06d}")
        with database.engine.connect() as connection:
            queued = connection.execute(select(OutboxRow.id)).scalars().all()
        queue.mark_sent(queued, now)
        bot = RunningBot(fake, database)
        try:
            fake.reset()  # a quiet workspace: no calls so far, full rate-limit buckets
            reschedule(database, dict.fromkeys(ids, utc_now() + timedelta(seconds=2)))
            started = time.monotonic() + 2  # the bake end, on the fake's clock
            deadline = started + 600
            while not _burst_done(database, count):
                if time.monotonic() > deadline:
                    raise AssertionError("the burst was not delivered within 10 minutes")
                time.sleep(0.2)
            calls = fake.calls
        finally:
            bot.close()
    by_method = Counter(c.method for c in calls)
    return {
        "calls": len(calls),
        "by_method": dict(by_method),
        "limited": sum(1 for c in calls if c.status == 429),
        "limited_by_method": dict(Counter(c.method for c in calls if c.status == 429)),
        "seconds": max(c.at for c in calls) - started if calls else 0.0,
    }


def _burst_done(database: Database, count: int) -> bool:
    """Every release moved on from its bake and no outbox row is left to deliver."""
    with database.engine.connect() as connection:
        waiting = connection.execute(
            select(func.count()).where(ReleaseRow.state == ReleaseState.AWAITING_APPROVAL.value)
        ).scalar_one()
        pending = connection.execute(
            select(func.count()).where(OutboxRow.status == OutboxStatus.PENDING.value)
        ).scalar_one()
    return waiting == count and pending == 0


# --- report -----------------------------------------------------------------------------------


def seconds(values: list[float]) -> str:
    """p50, p99 and max of a list of seconds."""
    return (f"p50 {percentile(values, 50):6.3f} s   p99 {percentile(values, 99):6.3f} s   "
            f"max {max(values):6.3f} s")


def main() -> None:
    """Print one small table per reachable database."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--spread-seconds", type=float, default=60.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--databases", nargs="*", default=None, help="sqlite and/or postgres")
    args = parser.parse_args()
    kinds = args.databases or backends()
    logging.getLogger("apscheduler").addHandler(logging.NullHandler())  # counted, not printed
    print(f"{args.releases} active releases, bake ends spread over {args.spread_seconds:g} s, "
          f"real Sweeper (every 1 s); burst of {args.burst} against a rate-limited fake Slack")
    for kind in kinds:
        timers = idle_and_lag(kind, args.releases, args.spread_seconds, args.idle_seconds)
        print(f"\n{kind}  (set-up {timers['setup']:.1f} s, not counted)")
        print(f"  lag, timer event `at` - bake end   {seconds(timers['lag'])}   target p99 <= 1 s")
        print(f"  lag, advance committed - bake end  {seconds(timers['applied'])}")
        print(f"  sweeps that advanced               {timers['busy_sweeps']}, longest "
              f"{timers['longest']:.3f} s, {timers['per_advance_ms']:.2f} ms per advance, "
              f"{timers['skipped']} runs skipped")
        server = timers["idle_server"]
        extra = "" if server is None else f"   (its postgres backends: {server * 100:.2f}%)"
        print(f"  idle sweeps, CPU of one core       {timers['idle_cpu'] * 100:6.2f}%   "
              f"target <= 5%   ({timers['idle_sweeps']} sweeps in {args.idle_seconds:g} s, "
              f"{timers['idle_sweep_ms']:.1f} ms each){extra}")
        if args.burst:
            b = burst(kind, args.burst)
            methods = ", ".join(f"{m} {n}" for m, n in sorted(b["by_method"].items()))
            limited = ", ".join(f"{m} {n}" for m, n in sorted(b["limited_by_method"].items()))
            print(f"  burst of {args.burst}: Slack calls        {b['calls']} ({methods}), "
                  f"all delivered {b['seconds']:.1f} s after the bake end")
            print(f"  burst of {args.burst}: answers 429        {b['limited']}"
                  f"{f' ({limited})' if limited else ''}   target 0")


if __name__ == "__main__":
    main()
