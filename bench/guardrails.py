"""Guardrails at scale: 1,000 active releases, a check each every 10 s, Prometheus at 50 ms.

Per database, with the real GuardrailRunner, the real Sweeper and a fake Prometheus whose every
answer takes --latency seconds (set-up is timed apart and not counted):
  * lateness: per measurement, the moment its query went out − the time it was due, and the
    moment its result was committed − the time it was due (that includes the query's latency);
  * abort: --victims releases whose metric turns bad at staggered moments (fail_if "> 0.01",
    failures 2, on_fail abort); per release, the abort committed (its row's updated_at) − the
    moment its metric turned bad;
  * sweeps: --bakes bake ends spread over the window, once with no checks running and once
    beside the 1,000 checks; per release, the bake end committed − the time it was due;
  * HTTP: serve's port (uvicorn + Starlette, `GET /healthz`, which asks the database, as a
    Slack acknowledgement would run beside it) probed every 50 ms during both sweep runs.
Targets: lateness p99 <= 1 s; abort within every × failures + 2 s (22 s); sweep lag and HTTP
latency p99 the same with checks as without (sweep lag <= 1 s).

    .venv/bin/python -m bench.guardrails [--releases 1000] [--seconds 40] [--latency 0.05]
                                         [--victims 10] [--bakes 150] [--databases sqlite]
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from bench.common import backends, fresh_database, percentile
from bench.transitions import NoGroups
from release_bot.bot.guardrails.prometheus import Prometheus
from release_bot.bot.guardrails.runner import GuardrailRunner
from release_bot.bot.runtime.http import HttpServer, build_http_app, health_routes
from release_bot.bot.runtime.sweeper import Sweeper
from release_bot.core.guardrails import DueCheck, Measurement
from release_bot.core.models import Check, FlagKind, OnFail, Phase, Pipeline, ReleaseState
from release_bot.core.service import ReleaseService
from release_bot.storage.checks import SqlCheckQueue
from release_bot.storage.database import Database
from release_bot.storage.tables import CheckStateRow, ReleaseRow
from tests.support.fake_prometheus import FakePrometheus

EVERY = timedelta(seconds=10)
FAILURES = 2
LEAD = 2.0  # seconds between the end of a set-up and the first thing due


def utc_now() -> datetime:
    """The wall clock in UTC (what `serve` gives the runner and the Sweeper)."""
    return datetime.now(UTC)


def guarded(index: int) -> Pipeline:
    """One long-baking phase watched by its own query (so each metric can turn bad alone)."""
    check = Check("error rate", f"errors_{index}", ">", 0.01, EVERY, failures=FAILURES,
                  on_fail=OnFail.ABORT)
    return Pipeline(f"guarded_{index}", (
        Phase("Canary", ("production",), percentage=10, bake=timedelta(hours=1),
              checks=(check,)),
        Phase("Production", ("production",)),
    ), channel="C0BENCH")


PLAIN = Pipeline("plain", (Phase("Everyone", ("production",), bake=timedelta(hours=1)),),
                 channel="C0BENCH")


class TimedRunner(GuardrailRunner):
    """The real runner, noting for each measurement when it was due, sent and committed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: dict[tuple[int, datetime], datetime] = {}
        self.timings: list[tuple[datetime, datetime, datetime]] = []
        self._lock = threading.Lock()

    def _measure(self, due: DueCheck) -> None:
        with self._lock:
            self.sent[(due.release_id, due.due_at)] = utc_now()
        super()._measure(due)

    def _record(self, batch: list[tuple[DueCheck, Measurement]]) -> None:
        super()._record(batch)
        done = utc_now()
        with self._lock:
            self.timings += [(due.due_at, self.sent[(due.release_id, due.due_at)], done)
                             for due, _ in batch]


def setup(database: Database, releases: int, bakes: int
          ) -> tuple[ReleaseService, list[int], list[int]]:
    """`releases` guarded releases and 2 × `bakes` plain ones, all started by the service."""
    pipelines = {p.name: p for p in [PLAIN, *(guarded(i) for i in range(releases))]}
    service = ReleaseService(database.uow, pipelines, NoGroups())
    now = utc_now()
    checked, plain = [], []
    for index in range(releases):
        service.create_flag(f"g{index}", FlagKind.GATE, f"guarded_{index}", False, "U0B", now)
        checked.append(_id(service.start_release(f"g{index}", True, "U0B", now).id))
    for index in range(2 * bakes):
        service.create_flag(f"p{index}", FlagKind.GATE, "plain", False, "U0B", now)
        plain.append(_id(service.start_release(f"p{index}", True, "U0B", now).id))
    with database.engine.begin() as connection:  # nothing due until the runs below
        connection.execute(update(CheckStateRow).values(due_at=now + timedelta(days=1)))
    return service, checked, plain


def _id(value: int | None) -> int:
    assert value is not None
    return value


def spread(database: Database, column: Any, ids: list[int], first: datetime, seconds: float
           ) -> dict[int, datetime]:
    """Set `column` (a bake end or a check's due time) of these releases evenly over a span."""
    at = {rid: first + timedelta(seconds=seconds * n / len(ids)) for n, rid in enumerate(ids)}
    key = CheckStateRow.release_id if column is CheckStateRow.due_at else ReleaseRow.id
    statement = update(column.class_).where(key == bindparam("rid")).values(
        {column.key: bindparam("at")})
    with database.engine.begin() as connection:
        connection.execute(statement.execution_options(synchronize_session=False),
                           [{"rid": rid, "at": when} for rid, when in at.items()])
    return at


def committed(database: Database, ids: list[int]) -> dict[int, tuple[str, datetime]]:
    """Each release's state and the time its row was last written."""
    with database.engine.connect() as connection:
        rows = connection.execute(select(ReleaseRow.id, ReleaseRow.state, ReleaseRow.updated_at)
                                  .where(ReleaseRow.id.in_(ids)))
        return {rid: (state, _utc(at)) for rid, state, at in rows}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def sweep_lag(database: Database, service: ReleaseService, ids: list[int], seconds: float,
              runner: GuardrailRunner | None) -> list[float]:
    """Bake ends of `ids` spread over `seconds`, swept by the real Sweeper (beside `runner`)."""
    ends = spread(database, ReleaseRow.bake_ends_at, ids, utc_now() + timedelta(seconds=LEAD),
                  seconds)
    sweeper = Sweeper(service, utc_now, lambda: None)
    sweeper.start()
    try:
        deadline = time.monotonic() + LEAD + seconds + 60
        while any(s == ReleaseState.BAKING.value for s, _ in committed(database, ids).values()):
            if time.monotonic() > deadline:
                raise AssertionError("the sweeps did not end every bake in time")
            time.sleep(0.5)
    finally:
        sweeper.stop()
    return [(at - ends[rid]).total_seconds() for rid, (_, at) in committed(database, ids).items()]


class Probe:
    """GET /healthz every 50 ms from a thread; the latencies, by the label set at the time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.label = "without"
        self.latencies: dict[str, list[float]] = {"without": [], "with": []}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            started = time.perf_counter()
            with urllib.request.urlopen(self.url, timeout=10) as answer:
                answer.read()
            self.latencies[self.label].append(time.perf_counter() - started)


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Everything measured on one database."""
    result: dict[str, Any] = {}
    with fresh_database(kind, "bench_guardrails") as database, \
            FakePrometheus(delay=args.latency) as prometheus:
        started = time.perf_counter()
        service, checked, plain = setup(database, args.releases, args.bakes)
        result["setup"] = time.perf_counter() - started
        for index in range(args.releases):
            prometheus.set(f"errors_{index}", 0.001)
        http = HttpServer(build_http_app(health_routes(database.ping)), "127.0.0.1", 0)
        http.start()
        probe = Probe(http.base_url + "/healthz").__enter__()
        result["lag_without"] = sweep_lag(database, service, plain[: args.bakes], args.seconds / 2,
                                          None)
        probe.label = "with"

        runner = TimedRunner(service, SqlCheckQueue(database), Prometheus(prometheus.url),
                             utc_now, lambda: None)
        first = utc_now() + timedelta(seconds=LEAD)
        spread(database, CheckStateRow.due_at, checked, first, EVERY.total_seconds())
        runner.start()
        victims = checked[:: max(1, len(checked) // args.victims)][: args.victims]
        turned: dict[int, datetime] = {}

        def turn_bad() -> None:
            time.sleep(LEAD + EVERY.total_seconds())  # steady state first
            for rid in victims:
                prometheus.set(f"errors_{checked.index(rid)}", 0.5)
                turned[rid] = utc_now()
                time.sleep(EVERY.total_seconds() / len(victims) * 0.73)  # off the beat

        turning = threading.Thread(target=turn_bad)
        turning.start()
        try:
            result["lag_with"] = sweep_lag(database, service, plain[args.bakes:],
                                           args.seconds / 2, runner)
            turning.join()
            deadline = time.monotonic() + EVERY.total_seconds() * FAILURES + 10
            while time.monotonic() < deadline and any(
                s != ReleaseState.ABORTED.value for s, _ in committed(database, victims).values()
            ):
                time.sleep(0.5)
        finally:
            runner.stop()
            probe.__exit__()
            http.stop()
        result["http"] = probe.latencies
        states = committed(database, victims)
        result["abort"] = [(states[rid][1] - turned[rid]).total_seconds() for rid in victims
                           if states[rid][0] == ReleaseState.ABORTED.value]
        result["not_aborted"] = sum(1 for s, _ in states.values()
                                    if s != ReleaseState.ABORTED.value)
        timings = [t for t in runner.timings if t[0] >= first]
        result["sent"] = [(sent - due).total_seconds() for due, sent, _ in timings]
        result["done"] = [(done - due).total_seconds() for due, _, done in timings]
        result["window"] = (max(t[2] for t in timings) - first).total_seconds() if timings else 0
        others = [rid for rid in checked if rid not in victims]
        result["false_aborts"] = sum(1 for s, _ in committed(database, others).values()
                                     if s != ReleaseState.BAKING.value)
    return result


def seconds(values: list[float]) -> str:
    """p50/p99/max in seconds."""
    if not values:
        return "none"
    return (f"p50 {percentile(values, 50):.3f} s, p99 {percentile(values, 99):.3f} s, "
            f"max {max(values):.3f} s")


def main() -> None:
    """Print one small table per reachable database."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--victims", type=int, default=10)
    parser.add_argument("--bakes", type=int, default=150)
    parser.add_argument("--databases", nargs="*", default=None, help="sqlite and/or postgres")
    args = parser.parse_args()
    logging.getLogger("apscheduler").addHandler(logging.NullHandler())
    print(f"{args.releases} active releases, a check each every {EVERY.seconds} s, a fake "
          f"Prometheus answering in {args.latency * 1000:g} ms; {args.victims} metrics turn bad "
          f"(failures {FAILURES}, on_fail abort); {args.bakes} bake ends per sweep run")
    for kind in args.databases or backends():
        r = run(kind, args)
        n = len(r["sent"])
        print(f"\n{kind}  (set-up {r['setup']:.1f} s, not counted)")
        print(f"  lateness, query sent - due         {seconds(r['sent'])}   target p99 <= 1 s "
              f"({n} measurements in {r['window']:.0f} s, {n / max(r['window'], 1):.0f}/s)")
        print(f"  lateness, result committed - due   {seconds(r['done'])}")
        budget = EVERY.total_seconds() * FAILURES + 2
        print(f"  metric bad -> abort committed      {seconds(r['abort'])}   target <= "
              f"{budget:g} s ({r['not_aborted']} not aborted, {r['false_aborts']} others moved)")
        print(f"  sweep lag, no checks running       {seconds(r['lag_without'])}")
        print(f"  sweep lag, beside the checks       {seconds(r['lag_with'])}   target p99 "
              "<= 1 s, as without")
        print(f"  GET /healthz, no checks running    {seconds(r['http']['without'])}")
        print(f"  GET /healthz, beside the checks    {seconds(r['http']['with'])}   target as "
              "without")


if __name__ == "__main__":
    main()
