"""The pipelines file: `pipelines check` passes the example; a broken file exits 2 naming the
file and line (and the pipeline/phase) — and nothing else happens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli_support import AAA, DEV, EXAMPLE, MGR, Cli, error_sentence

EXAMPLE_TEXT = EXAMPLE.read_text()


def test_pipelines_check_passes_the_example_and_names_open_actions(sqlite_cli: Cli) -> None:
    assert sqlite_cli.ok("pipelines", "check").splitlines() == [
        "standard: Staging → Production canary → Production",
        "fast: Beta users → Everyone",
        "  note: anyone may approve, pause, unpause, skip, abort, full_rollout "
        "(not listed in permissions)",
        f"{sqlite_cli.config}: OK, 2 pipeline(s)",
    ]


def edit(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return change


# (how the example is broken, the line reported, what the message says after `file:line: `)
BROKEN = {
    "bad-yaml": (
        edit("environments: [staging]", "environments: [staging"),
        28, "not valid YAML: expected ',' or ']', but got ':'",
    ),
    "tab-indent": (
        edit("        bake: 30m", "\tbake: 30m"),
        28, "not valid YAML: found character '\\t' that cannot start any token",
    ),
    "bad-duration": (
        edit("bake: 2h", "bake: 2hours"),
        33, "pipeline 'standard', phase 2 ('Production canary'), bake: '2hours' is not a "
        "duration: write it like 90s, 30m, 2h, 1h30m or 1d",
    ),
    "unknown-key": (
        edit("        bake: 10m", "        bake: 10m\n        bake_time: 1h"),
        46, "pipeline 'fast', phase 1 ('Beta users'), bake_time: not a known setting here "
        "(misspelt or misplaced?)",
    ),
    "key-given-twice": (
        edit("        bake: 30m", "        bake: 30m\n        bake: 1h"),
        29, "'bake' is given twice in the same place",
    ),
    "unknown-action": (
        edit("      skip: [", "      skipp: ["),
        22, "pipeline 'standard', permissions, skipp: unknown action 'skipp' (known: approve, "
        "pause, unpause, skip, abort, full_rollout)",
    ),
    "bad-principal": (
        edit('      pause: ["@engineering"]', "      pause: [engineering]"),
        20, "pipeline 'standard', permissions, pause, 0: 'engineering' is not a user group handle "
        "(@name), a group id (S…) or a user id (U…)",
    ),
    "bad-percentage": (
        edit("percentage: 10", "percentage: 110"),
        31, "pipeline 'standard', phase 2 ('Production canary'), percentage: Input should be "
        "less than or equal to 100",
    ),
    "no-phases": (
        lambda text: text.split("    phases:\n      - name: Beta users")[0] + "    phases: []\n",
        41, "pipeline 'fast', phases: List should have at least 1 item after validation, not 0",
    ),
    "same-phase-name": (
        edit("- name: Everyone", "- name: Beta users"),
        39, "pipeline 'fast': phase names must be unique; repeated: Beta users",
    ),
    "no-pipelines": (lambda text: "members: {}\n", 1, "pipelines: is required but missing"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_broken_file_is_refused_with_its_line_and_nothing_happens(
    tmp_path: Path, case: str
) -> None:
    breaks, line, problem = BROKEN[case]
    config = tmp_path / "pipelines.yml"
    config.write_text(breaks(EXAMPLE_TEXT))
    database = tmp_path / "release-bot.db"
    cli = Cli(f"sqlite:///{database}", config)
    expected = f"{config}:{line}: {problem}"
    assert cli.fail("pipelines", "check", code=2) == expected
    assert cli.fail(
        "flag", "create", "f", "--kind", "gate", "--pipeline", "standard", "--value", "true",
        code=2,
    ) == expected
    assert not database.exists(), "a broken pipelines file stops the command before the database"


def test_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    database = tmp_path / "release-bot.db"
    missing = tmp_path / "nope.yml"
    cli = Cli(f"sqlite:///{database}", missing)
    assert cli.fail("pipelines", "check", code=2) == (
        f"{missing}: no such file — create it (see pipelines.example.yml) or point "
        "RELEASE_BOT_CONFIG at yours"
    )
    assert cli.fail("release", "start", "f", "--value", "true", "--by", DEV, code=2).startswith(
        f"{missing}: no such file"
    )
    assert Cli(None, tmp_path).fail("pipelines", "check", code=2) == (
        f"{tmp_path}: cannot be read: Is a directory"
    )
    empty = tmp_path / "empty.yml"
    empty.write_text("# nothing yet\n")
    assert Cli(None, empty).fail("pipelines", "check", code=2) == (
        f"{empty}: expected a mapping with a 'pipelines:' key"
    )
    assert not database.exists()


def test_several_problems_are_listed_one_a_line(sqlite_cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "two.yml"
    config.write_text(edit("bake: 2h", "bake: 2hours")(edit("percentage: 10", "percentage: -1")(
        EXAMPLE_TEXT
    )))
    result = Cli(sqlite_cli.database_url, config).invoke("pipelines", "check")
    assert result.exit_code == 2
    lines = result.stderr.removeprefix("error: ").splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{config}:31", f"{config}:33"]


def test_commands_that_need_no_pipelines_work_without_the_file(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    cli.ok("flag", "create", "new_checkout", "--kind", "gate", "--pipeline", "standard",
           "--value", "false")
    release_id = cli.start("new_checkout", "true", DEV)
    assert cli.config is not None
    cli.config.write_text(edit("bake: 30m", "bake: 30 minutes")(EXAMPLE_TEXT))

    # acting needs the members map: refused with the file's problem, and nothing happens
    events = len(cli.history("new_checkout"))
    message = cli.fail("release", "act", str(release_id), "skip", "--as", MGR, code=2)
    assert message.startswith(f"{cli.config}:28: pipeline 'standard', phase 1 ('Staging'), bake:")
    assert cli.state(release_id) == ("baking", 0)
    assert len(cli.history("new_checkout")) == events

    # reading, evaluating and ticking do not read the file
    cli.config.unlink()
    assert cli.eval("new_checkout", "staging", "u1") is True
    assert cli.json("release", "tick") == []
    assert cli.json("flag", "list")[0]["active_release"] == release_id


def test_a_release_keeps_the_pipeline_it_started_with(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    cli.ok("flag", "create", "new_checkout", "--kind", "gate", "--pipeline", "standard",
           "--value", "false")
    release_id = cli.start("new_checkout", "true", DEV)
    assert cli.config is not None
    cli.config.write_text(
        edit("        approval: {groups: [\"@release-approvers\"], required: 1}\n", "")(
            edit("name: Production canary", "name: Canary")(EXAMPLE_TEXT)
        )
    )
    cli.act(release_id, "skip", MGR)
    shown = cli.show(release_id)
    assert (shown["state"], shown["phase_name"]) == ("awaiting_approval", "Production canary")
    cli.act(release_id, "approve", AAA)
    assert cli.state(release_id) == ("baking", 1)


def test_error_sentence_rejects_a_traceback() -> None:
    with pytest.raises(AssertionError, match="more than one line"):
        error_sentence(1, "", "error: x.\nTraceback (most recent call last):\n", 1, ["x"])
    with pytest.raises(AssertionError, match="internals or markup leaked"):
        error_sentence(1, "", "error: only <@U0MGR> may.\n", 1, ["x"])
