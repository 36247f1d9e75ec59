"""Checks through a real `release-bot serve` against a fake Prometheus whose answers we set.

Releases are started on the database the way the CLI does; measuring, pausing, aborting and
ending (or holding) bakes is the serve process's doing. Checks of the started releases measure
every second (the file's shortest is 5s): a release keeps the pipeline it started with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from release_bot.bot.runtime.pipelines_file import load_pipelines
from release_bot.bot.runtime.static_membership import StaticMembership
from release_bot.core.models import GUARDRAIL_ACTOR, Action, Command, ReleaseState
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from release_bot.storage.outbox import OutboxStatus
from tests.support.fake_prometheus import NO_SERIES, FakePrometheus
from tests.support.scheduler_support import (
    CHANNEL,
    MGR,
    ServeFactory,
    ServeProcess,
    now,
    outbox,
    start_release,
    wait_until,
    write_pipelines,
)

CANARY = """
      - name: Canary
        environments: [production]
        percentage: 10
        bake: {bake}
        checks:
          - name: {name}
            query: {query}
            fail_if: "{cond}"
            every: 5s
            failures: {failures}
            on_fail: {on_fail}
      - name: Production
        environments: [production]
"""
PIPELINES = f"""
pipelines:
  errors:
    channel: {CHANNEL}
    phases:{CANARY.format(bake="1s", name="error rate", query="errors_ratio", cond="> 0.01",
                          failures=1, on_fail="abort")}
  blind:
    channel: {CHANNEL}
    phases:{CANARY.format(bake="1h", name="latency", query="latency_p99", cond="> 0.5",
                          failures=1, on_fail="abort")}
  held:
    channel: {CHANNEL}
    phases:{CANARY.format(bake="1s", name="latency", query="slow_p99", cond=">= 0.5",
                          failures=100, on_fail="pause")}
"""
DEADLINE = 20.0


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with FakePrometheus() as fake:
        yield fake


def fast_service(database: Database, pipelines: Path) -> ReleaseService:
    """The CLI's service, except that checks of the releases it starts measure every second."""
    config = load_pipelines(pipelines)
    fast = {
        name: replace(p, phases=tuple(
            replace(phase, checks=tuple(replace(c, every=timedelta(seconds=1))
                                        for c in phase.checks))
            for phase in p.phases))
        for name, p in config.pipelines.items()
    }
    return ReleaseService(database.uow, fast, StaticMembership(config.members))


def serve(serve_processes: ServeFactory, prometheus: FakePrometheus) -> ServeProcess:
    return serve_processes(PROMETHEUS_URL=prometheus.url, PROMETHEUS_TOKEN="prom-token")


def state_of(service: ReleaseService, rid: int) -> ReleaseState:
    return service.release(rid).state


def test_a_passing_canary_advances(serve_processes: ServeFactory, database: Database,
                                   pipelines: Path, prometheus: FakePrometheus) -> None:
    prometheus.set("errors_ratio", 0.001)
    serve(serve_processes, prometheus)
    service = fast_service(database, pipelines)
    rid = start_release(service, "new_checkout", "errors").id
    assert rid is not None
    wait_until(lambda: state_of(service, rid) is ReleaseState.COMPLETED, DEADLINE, "completed")
    history = service.history("new_checkout")
    assert [(e.actor, e.message) for e in history if e.action == "check"] == [
        (GUARDRAIL_ACTOR, "check error rate passed: 0.001 (fails if > 0.01)")]
    assert ("errors_ratio", "Bearer prom-token") in prometheus.asked


def test_a_failing_check_aborts_and_everything_serves_the_old_value(
    serve_processes: ServeFactory, database: Database, pipelines: Path,
    prometheus: FakePrometheus,
) -> None:
    prometheus.set("errors_ratio", 0.2)
    serve(serve_processes, prometheus)
    service = fast_service(database, pipelines)
    rid = start_release(service, "new_checkout", "errors").id
    assert rid is not None
    wait_until(lambda: state_of(service, rid) is ReleaseState.ABORTED, DEADLINE, "aborted")
    abort = service.history("new_checkout")[-1]
    assert (abort.actor, abort.action) == (GUARDRAIL_ACTOR, "abort")
    assert abort.reason == ("check error rate failed 1 time(s) in a row: query errors_ratio "
                            "gave 0.2, which fails if > 0.01")
    for unit in ("user-1", "user-2", "user-3", "user-4"):
        assert service.evaluate("new_checkout", "production", unit, {}) is False


def test_no_data_three_times_in_a_row_pauses(serve_processes: ServeFactory, database: Database,
                                             pipelines: Path, prometheus: FakePrometheus
                                             ) -> None:
    prometheus.set("latency_p99", NO_SERIES)
    serve(serve_processes, prometheus)
    service = fast_service(database, pipelines)
    rid = start_release(service, "new_checkout", "blind").id
    assert rid is not None
    wait_until(lambda: state_of(service, rid) is ReleaseState.PAUSED, DEADLINE, "paused")
    pause = service.history("new_checkout")[-1]
    assert (pause.actor, pause.action) == (GUARDRAIL_ACTOR, "pause")
    assert pause.reason == ("check latency had no data 3 times in a row (no series) — query "
                            "latency_p99")
    assert prometheus.times_asked("latency_p99") >= 3  # it keeps measuring while paused


def test_a_failing_check_holds_the_bake_end_until_it_passes(
    serve_processes: ServeFactory, database: Database, pipelines: Path,
    prometheus: FakePrometheus,
) -> None:
    prometheus.set("slow_p99", 0.9)
    process = serve(serve_processes, prometheus)
    service = fast_service(database, pipelines)
    rid = start_release(service, "new_checkout", "held").id
    assert rid is not None
    wait_until(lambda: service.release(rid).held_since is not None, DEADLINE, "held")
    held = service.release(rid)
    assert held.state is ReleaseState.BAKING and held.phase == 0
    prometheus.set("slow_p99", 0.1)
    wait_until(lambda: state_of(service, rid) is ReleaseState.COMPLETED, DEADLINE, "completed")
    timers = [e.message for e in service.history("new_checkout") if e.action == "timer"]
    assert timers == [
        "the bake time of phase Canary is over, but the bake is held: check latency failed: "
        "0.9 (fails if >= 0.5)",
        "the bake of phase Canary ended once its checks passed",
    ]
    # every status update of the held release reached Slack, and nothing went wrong in serve
    wait_until(lambda: not outbox(database, OutboxStatus.PENDING), DEADLINE, "delivered")
    assert outbox(database, OutboxStatus.FAILED) == []
    assert "Traceback" not in process.stderr()


def test_skip_over_a_failing_check_is_recorded(serve_processes: ServeFactory,
                                               database: Database, pipelines: Path,
                                               prometheus: FakePrometheus) -> None:
    prometheus.set("slow_p99", 0.9)
    serve(serve_processes, prometheus)
    service = fast_service(database, pipelines)
    rid = start_release(service, "new_checkout", "held").id
    assert rid is not None
    wait_until(lambda: service.release(rid).held_since is not None, DEADLINE, "held")
    skipped = service.act(Command(rid, Action.SKIP, MGR, phase=0), now())
    assert skipped.state is ReleaseState.COMPLETED
    skip = service.history("new_checkout")[-1]
    assert (skip.actor, skip.action) == (MGR, "skip")
    assert skip.message == ("skipped the rest of the bake of phase Canary, overriding check "
                            "latency failed: 0.9 (fails if >= 0.5)")


def test_serve_refuses_to_start_without_prometheus_for_a_file_with_checks(
    serve_processes: ServeFactory,
) -> None:
    process = serve_processes(ready=False)
    assert process.wait(30) == 2
    assert "PROMETHEUS_URL is not set" in process.stderr()


def test_checks_run_in_a_serve_without_slack(serve_processes: ServeFactory, database: Database,
                                             pipelines: Path, prometheus: FakePrometheus
                                             ) -> None:
    prometheus.set("errors_ratio", 0.2)
    process = serve_processes(PROMETHEUS_URL=prometheus.url, SLACK_BOT_TOKEN="")
    service = fast_service(database, pipelines)
    rid = start_release(service, "new_checkout", "errors").id
    assert rid is not None
    wait_until(lambda: state_of(service, rid) is ReleaseState.ABORTED, DEADLINE, "aborted")
    assert "Slack is off" in process.stderr()
