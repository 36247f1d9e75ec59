"""`checks:` in the pipelines file: validated line by line; PROMETHEUS_URL is asked for."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from release_bot.bot.cli.output import release_data, release_text
from release_bot.core import machine
from release_bot.core.guardrails import Measurement, first_state, measure
from release_bot.core.models import Check, Phase, Version
from tests.support.cli_support import Cli
from tests.support.fakes import NOW, pipeline_of, staging, started

GUARDED = """
pipelines:
  guarded:
    phases:
      - name: Canary
        environments: [production]
        percentage: 10
        bake: 30m
        checks:
          - name: error rate
            query: sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))
            fail_if: "> 0.01"
            every: 1m
            after: 2m
            failures: 2
            on_fail: abort
      - name: Production
        environments: [production]
"""
CHECK = "pipeline 'guarded', phase 1 ('Canary'), check 1 ('error rate')"


def cli_on(tmp_path: Path, text: str) -> Cli:
    path = tmp_path / "pipelines.yml"
    path.write_text(text)
    return Cli(f"sqlite:///{tmp_path / 'release-bot.db'}", path)


def test_a_file_with_checks_passes_and_asks_for_prometheus(tmp_path: Path) -> None:
    cli = cli_on(tmp_path, GUARDED)
    without = cli.ok("pipelines", "check", env={"PROMETHEUS_URL": None})
    assert without.splitlines()[0] == "guarded: Canary (checks: error rate) → Production"
    assert "  note: phases of this file have checks, but PROMETHEUS_URL is not set: set it " \
           "to your Prometheus server (http://host:9090) — serve refuses to start without it" \
        in without.splitlines()
    with_url = cli.ok("pipelines", "check", env={"PROMETHEUS_URL": "http://prometheus:9090"})
    assert "PROMETHEUS_URL" not in with_url


def test_serve_refuses_to_start_without_prometheus(tmp_path: Path) -> None:
    cli = cli_on(tmp_path, GUARDED)
    message = cli.fail("serve", code=2, env={"PROMETHEUS_URL": None})
    assert message.startswith("Phases of this file have checks, but PROMETHEUS_URL is not set")


def test_a_prometheus_url_that_is_not_one_is_a_bad_setting(tmp_path: Path) -> None:
    cli = cli_on(tmp_path, GUARDED)
    message = cli.fail("pipelines", "check", code=2, env={"PROMETHEUS_URL": "prometheus:9090"})
    assert message.startswith("PROMETHEUS_URL is not valid")


@pytest.mark.parametrize(("old", "new", "line", "says"), [
    ('fail_if: "> 0.01"', "fail_if: 0.01", 12,
     f"{CHECK}, fail_if: 0.01 is not a condition: write a comparison and a number in quotes, "
     'such as "> 0.01" (the comparison is one of <, <=, >, >=, ==)'),
    ("every: 1m", "every: 1s", 13, f"{CHECK}, every: 1s is shorter than 5s, the shortest "
     "allowed here"),
    ("after: 2m", "after: 2", 14, f"{CHECK}, after: 2 has no unit: write it like 90s, 30m, 2h, "
     "1h30m or 1d (seconds are 's', so 2s)"),
    ("failures: 2", "failures: 0", 15, f"{CHECK}, failures: must be at least 1 (got 0)"),
    ("on_fail: abort", "on_fail: rollback", 16,
     f"{CHECK}, on_fail: 'rollback' is not known here: write 'pause' or 'abort'"),
    ("            query: sum", "            query: ''\n            x: sum", 11,
     f"{CHECK}, query: '' is not usable as a query: write a PromQL expression of up to 4000 "
     "printable characters"),
    ("            on_fail: abort", "            on_fail: abort\n          - name: error rate\n"
     "            query: up\n            fail_if: '< 1'\n            every: 10s", 5,
     "pipeline 'guarded', phase 1 ('Canary'): check names must be unique within a "
     "phase; repeated: error rate"),
])
def test_each_broken_check_setting_is_one_line(tmp_path: Path, old: str, new: str, line: int,
                                               says: str) -> None:
    assert GUARDED.count(old) == 1, old
    cli = cli_on(tmp_path, GUARDED.replace(old, new))
    result = cli.invoke("pipelines", "check")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"{cli.config}:{line}: {says}" in [lines[0].removeprefix("error: "), *lines[1:]], \
        result.stderr


def test_release_show_lists_the_checks_of_live_phases_and_what_holds_the_bake() -> None:
    check = Check("error rate", "errors", ">", 0.01, timedelta(seconds=10))
    later = Phase(name="Later", environments=("production",))
    release = started(pipeline_of(staging(checks=(check,)), later))
    state = measure(check, first_state(0, check, NOW), Measurement(0.5, NOW), NOW).after
    held = machine.timer_end(replace(release, checks=(state,)), NOW + timedelta(hours=1))
    assert held is not None
    versions = {v: Version(v, v == 2, NOW, "U0B") for v in (1, 2)}
    text = release_text(held.release, versions, NOW + timedelta(hours=1))
    assert ("  ● 1. Staging [staging]: baking, bake time over, then phase Later goes live, then "
            "the release completes — held until it passes: check error rate failed: 0.5 "
            "(fails if > 0.01)") in text.splitlines()
    assert "      check error rate failed: 0.5 (fails if > 0.01) at 09:00:00 UTC" in text
    data = release_data(held.release, versions)
    assert data["held_since"] is not None
    assert data["phases"][0]["checks"] == [{
        "name": "error rate", "query": "errors", "fail_if": "> 0.01", "verdict": "fail",
        "value": 0.5, "measured_at": "2025-01-06T09:00:00+00:00", "detail": None,
        "failures_in_a_row": 1, "no_data_in_a_row": 0,
    }]
