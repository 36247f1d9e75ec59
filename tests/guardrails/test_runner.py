"""The guardrail runner on the real database: replicas share the checks, answers are recorded,
and stopping records the answers in hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from release_bot.bot.guardrails.prometheus import Prometheus
from release_bot.bot.guardrails.runner import GuardrailRunner
from release_bot.core.models import Check, FlagKind, OnFail, Phase, Pipeline, ReleaseState
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from release_bot.storage.checks import SqlCheckQueue
from tests.support.fake_prometheus import FakePrometheus
from tests.support.fakes import Everyone
from tests.support.scheduler_support import wait_until

RELEASES = 12


def utc_now() -> datetime:
    return datetime.now(UTC)


def pipeline(index: int) -> Pipeline:
    check = Check("errors", f"errors_{index}", ">", 0.01, timedelta(seconds=30),
                  on_fail=OnFail.ABORT)
    return Pipeline(f"p{index}", (
        Phase("Canary", ("production",), percentage=10, bake=timedelta(hours=1),
              checks=(check,)),
        Phase("Production", ("production",)),
    ))


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with FakePrometheus(delay=0.05) as fake:
        yield fake


def test_two_replicas_measure_each_due_check_once_and_a_bad_one_aborts(
    database: Database, prometheus: FakePrometheus
) -> None:
    service = ReleaseService(database.uow, {f"p{i}": pipeline(i) for i in range(RELEASES)},
                             Everyone())
    for index in range(RELEASES):
        prometheus.set(f"errors_{index}", 0.5 if index == 0 else 0.001)
    runners = [
        GuardrailRunner(service, SqlCheckQueue(database), Prometheus(prometheus.url), utc_now,
                        lambda: None, workers=4, poll=0.05)
        for _ in range(2)
    ]
    for runner in runners:
        runner.start()
    try:
        ids = []
        for index in range(RELEASES):
            service.create_flag(f"f{index}", FlagKind.GATE, f"p{index}", False, "U0DEV",
                                utc_now())
            ids.append(service.start_release(f"f{index}", True, "U0DEV", utc_now()).id)
        wait_until(lambda: len(prometheus.asked) >= RELEASES, 10,
                   "every check asked")
        wait_until(lambda: service.release(ids[0]).state is ReleaseState.ABORTED, 10,
                   "the bad one aborted")
    finally:
        for runner in runners:
            runner.stop()
    assert [prometheus.times_asked(f"errors_{i}") for i in range(RELEASES)] == [1] * RELEASES
    passed = [service.release(rid) for rid in ids[1:]]
    assert all(r.state is ReleaseState.BAKING for r in passed)
    assert all(r.checks[0].verdict is not None for r in passed)  # recorded before stop returned
