"""Against a real Prometheus server: the exporter's counters reach its query API, and a release
whose check watches them aborts on its own once errors rise.

Prometheus (Debian's binary) scrapes an exporter the test serves, every second; a real
`release-bot serve` measures the check against it. Skipped without the binary, except in CI.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_bot.core.models import ReleaseState, Verdict
from release_bot.storage import Database
from tests.support.fake_slack import FakeSlack
from tests.support.prometheus import APP, Exporter, Prometheus, scraped_exporter
from tests.support.scheduler_support import (
    CHANNEL,
    ServeFactory,
    service_on,
    start_release,
    wait_until,
    write_pipelines,
)

ERRORS = f'sum(increase(http_errors_total{{app="{APP}"}}[10s]))'
PIPELINES = f"""
pipelines:
  standard:
    channel: {CHANNEL}
    phases:
      - name: Production
        environments: [production]
        bake: 1h
        checks:
          - name: error rate
            query: '{ERRORS}'
            fail_if: "> 5"
            every: 5s
            after: 3s
            on_fail: abort
"""


def test_prometheus_sees_the_errors_the_exporter_counts(tmp_path: Path) -> None:
    with scraped_exporter(tmp_path) as (prometheus, exporter):
        expr = f'sum(http_errors_total{{app="{APP}"}})'
        assert prometheus.value(expr) == 0
        exporter.raise_counter("http_errors_total", 7)
        deadline = time.monotonic() + 15
        while prometheus.value(expr) != 7:
            assert time.monotonic() < deadline, "the raised counter never reached Prometheus"
            time.sleep(0.2)
        assert prometheus.value("sum(nonexistent_metric)") is None


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[Prometheus, Exporter]]:
    with scraped_exporter(tmp_path) as both:
        yield both


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    return write_pipelines(tmp_path, PIPELINES)


def test_a_release_aborts_on_its_own_when_the_real_error_counter_rises(
    prometheus: tuple[Prometheus, Exporter], serve_processes: ServeFactory, fake: FakeSlack,
    database: Database, pipelines: Path,
) -> None:
    server, exporter = prometheus
    serve_processes(PROMETHEUS_URL=server.url)
    service = service_on(database, pipelines)
    release = start_release(service, "new_checkout")
    assert release.id is not None
    rid = release.id

    def measured_passing() -> bool:
        state = service.release(rid).check_state(0, "error rate")
        return state is not None and state.verdict is Verdict.PASS

    wait_until(measured_passing, 30, lambda: f"a passing measurement: {service.release(rid)}")
    assert service.release(rid).state is ReleaseState.BAKING
    assert service.evaluate("new_checkout", "production", "user-1", {}) is True

    exporter.raise_counter("http_errors_total", 50)
    wait_until(lambda: service.release(rid).state is ReleaseState.ABORTED, 30,
               lambda: f"the abort: {service.release(rid)}")

    assert service.evaluate("new_checkout", "production", "user-1", {}) is False
    [abort] = [e for e in service.history("new_checkout") if e.action == "abort"]
    assert abort.actor == "guardrail"
    assert abort.reason is not None
    assert "error rate" in abort.reason and ERRORS in abort.reason and "> 5" in abort.reason
