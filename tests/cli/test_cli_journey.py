"""The README's walk-through from the CLI, with `eval` checked after every step."""

from __future__ import annotations

import pytest

from release_bot.core.evaluation import bucket
from tests.support.cli_support import AAA, BBB, DEV, MGR, Cli, unit_inside, unit_outside

KEY = "new_checkout"
IN = unit_inside(KEY, 10)  # inside the 10% canary
OUT = unit_outside(KEY, 10)  # outside it


def test_the_chosen_units_sit_either_side_of_the_canary_line() -> None:
    assert bucket(KEY, IN) < 1000 <= bucket(KEY, OUT)


def served(cli: Cli, key: str = KEY) -> dict[str, bool]:
    """What staging (everyone) and production (a canary unit, another unit) serve now."""
    inside, outside = unit_inside(key, 10), unit_outside(key, 10)
    return {
        "staging": cli.eval(key, "staging", outside),
        "canary": cli.eval(key, "production", inside),
        "rest": cli.eval(key, "production", outside),
    }


def everywhere(value: bool) -> dict[str, bool]:
    return {"staging": value, "canary": value, "rest": value}


def only(*live: str) -> dict[str, bool]:
    return {name: name in live for name in ("staging", "canary", "rest")}


def create_and_start(cli: Cli, key: str = KEY) -> int:
    cli.ok("flag", "create", key, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    assert served(cli, key) == everywhere(False)
    release_id = cli.start(key, "true", DEV)
    assert cli.state(release_id) == ("baking", 0)
    assert served(cli, key) == only("staging")
    return release_id


def test_readme_journey_skip_approve_pause_unpause_abort(cli: Cli) -> None:
    assert cli.ok("pipelines", "check").splitlines()[-1].endswith("OK, 2 pipeline(s)")
    release_id = create_and_start(cli)
    assert cli.eval(KEY, "staging", "user-42") is True  # the README's comment

    assert cli.step(release_id, "skip", MGR) == "awaiting_approval(1)"
    assert served(cli) == only("staging"), "nothing of a phase is live before its approval"

    assert cli.step(release_id, "approve", AAA) == "baking(1)"
    assert served(cli) == only("staging", "canary")

    assert cli.step(release_id, "pause", DEV) == "paused(1)"
    assert served(cli) == only("staging", "canary"), "pause never takes anything down"

    assert cli.step(release_id, "unpause", DEV) == "baking(1)"
    assert served(cli) == only("staging", "canary")

    assert cli.step(release_id, "abort", DEV, "--reason", "error rate") == "aborted"
    assert cli.state(release_id) == ("aborted", 1)
    assert served(cli) == everywhere(False), "abort brings back the pre-release values"

    events = cli.history(KEY)
    assert [(e["actor"], e["action"], e["outcome"]) for e in events] == [
        ("cli", "create", "ok"),
        (DEV, "trigger", "ok"),
        (MGR, "skip", "ok"),
        (AAA, "approve", "ok"),
        (DEV, "pause", "ok"),
        (DEV, "unpause", "ok"),
        (DEV, "abort", "ok"),
    ]
    assert events[-1]["reason"] == "error rate"
    assert [e["to_state"] for e in events[1:]] == [
        "baking(0)", "awaiting_approval(1)", "baking(1)", "paused(1)", "baking(1)", "aborted",
    ]
    text = cli.ok("history", KEY)
    assert "None" not in text, "a release's first event has no from-state to print"
    assert "(reason: error rate)" in text


def test_approvals_carry_a_release_through_all_three_phases_to_completion(cli: Cli) -> None:
    release_id = create_and_start(cli)
    assert cli.step(release_id, "skip", MGR) == "awaiting_approval(1)"
    assert cli.step(release_id, "approve", BBB) == "baking(1)"
    assert cli.step(release_id, "skip", MGR, "--phase", "2") == "awaiting_approval(2)"
    assert served(cli) == only("staging", "canary"), "the canary stays live while phase 3 waits"

    assert cli.step(release_id, "approve", AAA) == "awaiting_approval(2)", "two are needed"
    assert served(cli) == only("staging", "canary")

    assert cli.step(release_id, "approve", BBB) == "completed", "a zero-bake last phase ends it"
    assert cli.state(release_id) == ("completed", 2)
    assert served(cli) == everywhere(True)

    flag = cli.json("flag", "show", KEY)
    assert flag["environments"] == {
        "production": {"version": 2, "value": True},
        "staging": {"version": 2, "value": True},
    }
    assert flag["active_release"] is None
    assert cli.json("release", "list", "--active") == []
    # the next release starts from the new base
    second = cli.start(KEY, "false", DEV)
    assert second == release_id + 1
    assert served(cli) == only("canary", "rest")


@pytest.mark.parametrize(
    ("key", "steps", "state_before"),
    [
        ("from_baking", [], ("baking", 0)),
        ("from_awaiting", [("skip", MGR)], ("awaiting_approval", 1)),
        ("from_paused", [("skip", MGR), ("approve", AAA), ("pause", DEV)], ("paused", 1)),
    ],
)
def test_full_rollout_puts_every_phase_live_at_once(
    sqlite_cli: Cli, key: str, steps: list[tuple[str, str]], state_before: tuple[str, int]
) -> None:
    release_id = create_and_start(sqlite_cli, key)
    for action, actor in steps:
        sqlite_cli.act(release_id, action, actor)
    assert sqlite_cli.state(release_id) == state_before
    assert sqlite_cli.step(release_id, "full-rollout", MGR) == "completed"
    assert served(sqlite_cli, key) == everywhere(True)
    assert sqlite_cli.history(key)[-1]["action"] == "full_rollout"


def test_attributes_and_environments_outside_the_pipeline(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    old, new = {"limit": 5}, {"limit": 10}
    cli.ok("flag", "create", "limits", "--kind", "config", "--pipeline", "fast",
           "--value", '{"limit": 5}')
    release_id = cli.start("limits", '{"limit": 10}', DEV)
    assert cli.state(release_id) == ("baking", 0)
    assert cli.eval("limits", "production", "u1", "plan=beta") == new
    assert cli.eval("limits", "production", "u1", "plan=free") == old
    assert cli.eval("limits", "production", "u1") == old
    assert cli.eval("limits", "production", "u1", "plan=beta", "region=eu") == new

    # `fast` lists no permissions: anyone may skip
    assert cli.step(release_id, "skip", DEV) == "completed"
    assert cli.eval("limits", "production", "u1") == new
    assert cli.eval("limits", "staging", "u1") == old, "fast does not name staging"
