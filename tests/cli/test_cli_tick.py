"""`release tick` ends the bake timers that are due — and only those: not the ones still
running, not paused ones."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from tests.support.cli_support import DEV, QUICK_PIPELINES, Cli


def wait_until_due(cli: Cli, release_id: int, limit: float = 5.0) -> None:
    """Poll `release show --json` until the release's bake timer has run out (bounded),
    sleeping until the moment it names rather than spinning."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ends = cli.show(release_id)["bake_ends_at"]
        assert ends is not None, "the release is not baking"
        left = (datetime.fromisoformat(ends) - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return
        time.sleep(min(left + 0.01, 0.5))
    raise AssertionError(f"release #{release_id} was not due within {limit}s")


def test_tick_advances_due_releases_only(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "quick.yml"
    config.write_text(QUICK_PIPELINES)
    cli = Cli(database_url, config)
    if not database_url.startswith("sqlite"):
        cli.ok("db", "upgrade")
    for key, pipeline in [("gated", "quick"), ("single", "single"), ("paused", "quick")]:
        cli.ok("flag", "create", key, "--kind", "gate", "--pipeline", pipeline, "--value", "false")
    paused = cli.start("paused", "true", DEV)
    cli.act(paused, "pause", DEV)
    # started last and ticked at once, so that a slow machine still ticks within the second
    single = cli.start("single", "true", DEV)
    gated = cli.start("gated", "true", DEV)

    assert cli.ok("release", "tick") == "0 release(s) advanced\n", "a 1s bake is not due yet"
    assert cli.state(gated) == ("baking", 0)

    wait_until_due(cli, gated)
    wait_until_due(cli, single)
    advanced = cli.json("release", "tick")
    assert sorted(advanced, key=lambda r: r["id"]) == [
        {"id": single, "state": "completed", "phase": 0},
        {"id": gated, "state": "awaiting_approval", "phase": 1},
    ]
    assert cli.ok("release", "tick") == "0 release(s) advanced\n", "nothing is due twice"

    assert cli.state(paused) == ("paused", 0), "a paused timer does not run out"
    assert cli.eval("gated", "staging", "u1") is True
    assert cli.eval("gated", "production", "u1") is False, "production waits for approval"
    assert cli.eval("single", "production", "u1") is True
    last = cli.history("gated")[-1]
    assert (last["actor"], last["action"], last["from_state"], last["to_state"]) == (
        "release-bot", "timer", "baking(0)", "awaiting_approval(1)",
    )

    left = cli.show(paused)["remaining"]
    assert 0 < left <= 1
    cli.act(paused, "unpause", DEV)
    ends = datetime.fromisoformat(cli.show(paused)["bake_ends_at"])
    assert 0 < (ends - datetime.now(UTC)).total_seconds() <= left, "resumed with the time left"
