"""Against a real Prometheus server: the exporter's counters reach its query API."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.prometheus import APP, scraped_exporter


def test_prometheus_sees_the_errors_the_exporter_counts(tmp_path: Path) -> None:
    with scraped_exporter(tmp_path) as (prometheus, exporter):
        expr = f'sum(http_errors_total{{app="{APP}"}})'
        assert prometheus.value(expr) == 0
        exporter.raise_counter("http_errors_total", 7)
        deadline = time.monotonic() + 15
        while prometheus.value(expr) != 7:
            assert time.monotonic() < deadline, "the raised counter never reached Prometheus"
            time.sleep(0.2)
        assert prometheus.value('sum(nonexistent_metric)') is None
