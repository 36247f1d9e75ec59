"""The pipelines file: `pipelines check` passes the example; a broken or unworkable file exits 2
naming the file and line (and the pipeline/phase) — from `serve` too — and nothing else happens."""

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
        "  note: anyone may pause, unpause, skip, abort, full_rollout (not listed in permissions)",
        f"{sqlite_cli.config}: OK, 2 pipeline(s)",
    ]


def edit(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return change


HOW = "write it like 90s, 30m, 2h, 1h30m or 1d"
CANARY = "pipeline 'standard', phase 2 ('Production canary')"
PRODUCTION = "pipeline 'standard', phase 3 ('Production')"

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
        33, f"{CANARY}, bake: '2hours' is not a duration: {HOW}",
    ),
    "unknown-key": (
        edit("        bake: 10m", "        bake: 10m\n        bake_time: 1h"),
        46, "pipeline 'fast', phase 1 ('Beta users'), bake_time: not a known setting here "
        "(misspelt or misplaced?); did you mean 'bake'?",
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
        "(@name), a group id (S…), a user id (U…) or an API token (token:NAME)",
    ),
    "token-approves": (
        edit('      approve: ["@release-approvers"]', '      approve: ["@release-approvers", '
             '"token:deploy"]'),
        12, "pipeline 'standard': permissions.approve lists token:deploy, but an API token "
        "never approves: list people or groups there",
    ),
    "bad-percentage": (
        edit("percentage: 10", "percentage: 110"),
        31, f"{CANARY}, percentage: must be at most 100 (got 110)",
    ),
    "no-phases": (
        lambda text: text.split("    phases:\n      - name: Beta users")[0] + "    phases: []\n",
        41, "pipeline 'fast', phases: must list at least one",
    ),
    "same-phase-name": (
        edit("- name: Everyone", "- name: Beta users"),
        39, "pipeline 'fast': phase names must be unique; repeated: Beta users",
    ),
    "no-pipelines": (lambda text: "members: {}\n", 1, "pipelines: is required but missing"),
    # durations: text with a unit, 1s to 365d (a bake may be 0s); reminders at least 1m
    "bake-fraction": (edit("bake: 2h", "bake: 1.5"), 33,
                      f"{CANARY}, bake: a number is not a duration: {HOW}"),
    "bake-null": (edit("bake: 2h", "bake: null"), 33,
                  f"{CANARY}, bake: a duration is needed here: {HOW}"),
    "bake-list": (edit("bake: 2h", "bake: [1]"), 33,
                  f"{CANARY}, bake: a list is not a duration: {HOW}"),
    "bake-true": (edit("bake: 2h", "bake: true"), 33,
                  f"{CANARY}, bake: true is not a duration: {HOW}"),
    "bake-without-unit": (edit("bake: 2h", "bake: 90"), 33,
                          f"{CANARY}, bake: 90 has no unit: {HOW} (seconds are 's', so 90s)"),
    "bake-overflow": (edit("bake: 2h", "bake: 99999999999d"), 33,
                      f"{CANARY}, bake: 99999999999d is longer than 365d, the longest a "
                      "duration may be"),
    "bake-past-the-calendar": (edit("bake: 2h", "bake: 3000000d"), 33,
                               f"{CANARY}, bake: 3000000d is longer than 365d, the longest a "
                               "duration may be"),
    "reminder-storm": (edit("remind_every: 4h", "remind_every: 0s"), 15,
                       "pipeline 'standard', remind_every: 0s is shorter than 1m, the shortest "
                       "allowed here"),
    "escalation-too-soon": (edit("escalate_after: 24h", "escalate_after: 30s"), 16,
                            "pipeline 'standard', escalate_after: 30s is shorter than 1m, the "
                            "shortest allowed here"),
    # booleans are not numbers, numbers are not text
    "required-true": (edit("required: 1}", "required: true}"), 32,
                      f"{CANARY}, approval, required: true is not a whole number: write one "
                      "such as 2"),
    "percentage-true": (edit("percentage: 10", "percentage: true"), 31,
                        f"{CANARY}, percentage: true is not a number: write one such as 10"),
    "percentage-nan": (edit("percentage: 10", "percentage: .nan"), 31,
                       f"{CANARY}, percentage: nan is not a number: write one such as 10"),
    "required-zero": (edit("required: 1}", "required: 0}"), 32,
                      f"{CANARY}, approval, required: must be at least 1 (got 0)"),
    "self-approval-number": (edit("allow_self_approval: false", "allow_self_approval: 0"), 14,
                             "pipeline 'standard', allow_self_approval: 0 is not true or false: "
                             "write true or false"),
    "environment-number": (edit("environments: [staging]", "environments: [2024]"), 27,
                           "pipeline 'standard', phase 1 ('Staging'), environments, 0: 2024 is "
                           "not text: write text, quoted if it looks like a number, a date or "
                           "true/false"),
    # environments: named, once each
    "empty-environment": (edit("environments: [staging]", 'environments: [""]'), 27,
                          "pipeline 'standard', phase 1 ('Staging'), environments, 0: '' is not "
                          "usable as a name here: write up to 63 letters, digits, '.', '_' or "
                          "'-', starting with a letter or digit, such as production"),
    "environment-twice": (edit("environments: [staging]", "environments: [staging, staging]"),
                          27, "pipeline 'standard', phase 1 ('Staging'), environments: 'staging' "
                          "is listed twice: list each environment once"),
    # an empty list never means anyone
    "empty-permission": (edit('skip: ["@release-managers"]', "skip: []"), 22,
                         "pipeline 'standard', permissions, skip: an empty list would let anyone "
                         "do it: remove the line to let anyone, or list who may (@name, S… or U…)"),
    "empty-approval-groups": (edit('{groups: ["@release-approvers"], required: 1}',
                                   "{groups: [], required: 1}"), 32,
                              f"{CANARY}, approval, groups: an empty list would ask nobody: "
                              "remove 'groups' to ask those of permissions.approve (or anyone), "
                              "or list who may approve"),
    "empty-match": (edit("match: {plan: [beta]}", "match: {plan: []}"), 44,
                    "pipeline 'fast', phase 1 ('Beta users'), match, plan: an empty list matches "
                    "nobody: list the values to match"),
    # pipelines that cannot work
    "shrinking-share": (
        edit("        environments: [production]\n        approval: {groups: "
             '["@release-approvers"], required: 2}',
             "        environments: [production]\n        percentage: 5\n"
             '        approval: {groups: ["@release-approvers"], required: 2}'),
        36, f"{PRODUCTION}, percentage: phase 2 ('Production canary') already serves production "
        "to 10% of units, so 5% here would add nobody and misstate the share: give this phase at "
        "least 10%, or move it before phase 2",
    ),
    "share-after-everyone": (
        lambda text: text + "      - name: Canary again\n        environments: [production]\n"
        "        percentage: 10\n",
        50, "pipeline 'fast', phase 3 ('Canary again'), percentage: phase 2 ('Everyone') already "
        "serves production to every unit, so 10% here would add nobody and misstate the share: "
        "give this phase at least 100%, or move it before phase 2",
    ),
    "more-approvals-than-approvers": (
        edit("required: 2}", "required: 4}"), 36,
        f"{PRODUCTION}, approval, required: needs 4 approvals but only 3 people can ever give "
        "one (U0AAA, U0BBB, U0CCC): lower required to 3, or add approvers",
    ),
    "approvers-with-no-members": (
        lambda text: edit('"@release-managers": [U0MGR]', '"@release-managers": []')(
            edit('["@release-approvers"], required: 2}', '["@release-managers"], required: 2}')(
                text)), 36,
        f"{PRODUCTION}, approval, required: needs 2 approvals but nobody can give one: "
        "'members:' lists nobody in @release-managers; add people there, or list others who "
        "may approve",
    ),
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
    assert cli.fail("serve", code=2) == expected
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
        f"{empty}:1: expected a mapping with a 'pipelines:' key"
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


def test_the_note_names_gates_anyone_may_approve_and_unlisted_actions(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.yml"
    config.write_text(
        "pipelines:\n"
        "  open:\n"
        "    permissions: {pause: [U0DEV], unpause: [U0DEV]}\n"
        "    phases:\n"
        "      - {name: Staging, environments: [staging], approval: {}}\n"
        "      - {name: Canary, environments: [production], percentage: 5,\n"
        "         approval: {groups: [U0AAA]}}\n"
        "      - {name: Production, environments: [production], approval: {required: 1}}\n"
        "  guarded:\n"
        "    permissions: {approve: [U0AAA], pause: [U0DEV], unpause: [U0DEV], skip: [U0DEV],\n"
        "                  abort: [U0DEV], full_rollout: [U0DEV]}\n"
        "    phases:\n"
        "      - {name: Everywhere, environments: [staging, production], approval: {}}\n"
    )
    assert Cli(None, config).ok("pipelines", "check").splitlines() == [
        "open: Staging → Canary → Production",
        "  note: anyone may approve phase 1 ('Staging'), phase 3 ('Production') (no approval "
        "groups, and approve is not listed in permissions)",
        "  note: anyone may skip, abort, full_rollout (not listed in permissions)",
        "guarded: Everywhere",
        f"{config}: OK, 2 pipeline(s)",
    ]
