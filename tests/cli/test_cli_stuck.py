"""`release tick` moves every due release but one that is broken, and `release list --stuck`
says which one, why, how often it failed and when it is tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from release_bot.storage import open_database
from release_bot.storage.tables import ReleaseRow
from tests.support.cli_support import DEV, Cli


def set_columns(cli: Cli, release_id: int, **values: Any) -> None:
    """Write columns of a release's row behind release-bot's back."""
    assert cli.database_url is not None
    database = open_database(cli.database_url)
    with database.engine.begin() as connection:
        connection.execute(update(ReleaseRow).where(ReleaseRow.id == release_id).values(**values))
    database.dispose()


def test_a_broken_release_is_left_behind_by_tick_and_listed_as_stuck(cli: Cli) -> None:
    for key in ("bad", "good"):
        cli.ok("flag", "create", key, "--kind", "gate", "--pipeline", "standard", "--value",
               "false")
    bad, good = cli.start("bad", "true", DEV), cli.start("good", "true", DEV)
    assert cli.ok("release", "list", "--stuck") == "No release is stuck.\n"
    assert cli.json("release", "list", "--stuck") == []
    past = datetime.now(UTC) - timedelta(minutes=1)
    set_columns(cli, bad, bake_ends_at=past, pipeline={"broken": True})
    set_columns(cli, good, bake_ends_at=past)

    before = datetime.now(UTC)
    ticked = cli.invoke("release", "tick")
    after = datetime.now(UTC)
    assert ticked.exit_code == 0
    assert ticked.stdout.endswith("1 release(s) advanced\n")
    assert f"#{good} good: awaiting_approval(1)" in ticked.stdout
    [warning] = ticked.stderr.splitlines()
    assert warning.startswith(f"warning: release #{bad} could not be advanced (KeyError: ")
    assert warning.endswith("see 'release-bot release list --stuck'.")

    [row] = cli.json("release", "list", "--stuck")
    retry_at = datetime.fromisoformat(row.pop("retry_at"))
    assert row == {"id": bad, "flag": "bad", "state": "baking(0)", "failures": 1,
                   "error": "KeyError: 'name'"}
    assert before + timedelta(seconds=1) <= retry_at <= after + timedelta(seconds=1)
    [line] = cli.ok("release", "list", "--stuck").splitlines()
    assert line == (f"#{bad}\tbad\tbaking(0)\tfailed 1 time(s)\t"
                    f"next try {retry_at:%Y-%m-%d %H:%M:%S} UTC\tKeyError: 'name'")
    assert cli.ok("release", "list", "--stuck", "--flag", "good") == "No release is stuck.\n"
    assert cli.state(good) == ("awaiting_approval", 1)
