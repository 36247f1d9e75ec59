"""Unknown flags, releases and pipelines (exit 1); values that do not fit a flag and input that
cannot be read (exit 2): one plain sentence each, naming the argument, and nothing is created.

None of this depends on the kind of database, so it runs on SQLite only."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.support.cli_support import DEV, MGR, Cli, sentence

KEY = "new_checkout"


def nothing_changed(cli: Cli) -> None:
    """Only the flag `new_checkout` at version 1 exists, with no release."""
    assert [(f["key"], f["versions"]) for f in cli.json("flag", "list")] == [(KEY, 1)]
    assert cli.json("release", "list") == []


@pytest.fixture
def gate(sqlite_cli: Cli) -> Cli:
    cli = sqlite_cli
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    return cli


def test_unknown_things_are_named(gate: Cli) -> None:
    unknown_flag = "There is no flag nope."
    for args in [
        ["eval", "nope", "--env", "production", "--unit", "u1"],
        ["history", "nope"],
        ["flag", "show", "nope"],
        ["release", "start", "nope", "--value", "true", "--by", DEV],
    ]:
        assert gate.fail(*args) == unknown_flag, args
    for args in [
        ["release", "show", "99"],
        ["release", "act", "99", "abort", "--as", DEV, "--reason", "x"],
        ["release", "act", "99", "skip", "--as", MGR, "--phase", "1"],
    ]:
        assert gate.fail(*args) == "There is no release #99.", args
    assert gate.fail(
        "flag", "create", "f", "--kind", "gate", "--pipeline", "nope", "--value", "true"
    ) == "There is no pipeline nope in the pipelines file (known: fast, standard)."
    nothing_changed(gate)


def test_values_and_keys_that_do_not_fit_are_bad_input(gate: Cli) -> None:
    gate_value = "A feature gate's value must be true or false"
    config_value = "A dynamic config's value must be a JSON object"
    create = ["flag", "create", "x", "--pipeline", "standard"]
    for args, error in [
        ([*create, "--kind", "gate", "--value", '{"a": 1}'], gate_value),
        ([*create, "--kind", "gate", "--value", '"true"'], gate_value),
        ([*create, "--kind", "gate", "--value", "1"], gate_value),
        ([*create, "--kind", "config", "--value", "[1]"], config_value),
        ([*create, "--kind", "config", "--value", '"text"'], config_value),
        (["release", "start", KEY, "--value", '{"a": 1}', "--by", DEV], gate_value),
        (["release", "start", KEY, "--value", "null", "--by", DEV], gate_value),
        (["release", "start", KEY, "--value", "false", "--by", DEV],
         "new_checkout already has that value — a release would change nothing."),
        (["flag", "create", "bad key", "--kind", "gate", "--pipeline", "standard",
          "--value", "true"],
         "'bad key' is not a valid flag key: use letters, digits, '_', '.' or '-'."),
    ]:
        message = gate.fail(*args, code=2)
        assert message.startswith(error), (args, message)
        assert sentence(message), message
    assert gate.fail(
        "flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "true"
    ) == "Flag new_checkout already exists."
    nothing_changed(gate)


def test_input_that_cannot_be_read_exits_2(gate: Cli) -> None:
    not_json = "a gate takes true or false, a config an object such as {\"limit\": 5}."
    create = ["flag", "create", "x", "--kind", "config", "--pipeline", "standard"]
    start = ["release", "start", KEY, "--by", DEV, "--value"]
    evaluate = ["eval", KEY, "--env", "production", "--unit", "u1"]
    for args, error in [
        ([*create, "--value", "{bad"], "--value: {bad is not JSON (Expecting property name "
         f"enclosed in double quotes at column 2): {not_json}"),
        ([*start, "tru"], f"--value: tru is not JSON (Expecting value at column 1): {not_json}"),
        ([*start, ""], f"--value:  is not JSON (Expecting value at column 1): {not_json}"),
        ([*create, "--value", '{"ratio": NaN}'],
         "--value: NaN is not JSON: write a number, or quote it as a string."),
        ([*start, "1e400"],
         "--value: 1e400 is too large: numbers must fit in 64 bits (write it as a string)."),
        ([*start, "9" * 30], "--value: 999999999999999999999999999999 is too large: numbers "
         "must fit in 64 bits (write it as a string)."),
        ([*start, '{"a": "\\u0000"}'],
         "--value: Text in a value may not contain the NUL character (\\u0000)."),
        ([*start, "[" * 40 + "]" * 40], "--value: The value is nested more than 32 levels deep."),
        ([*evaluate, "--attr", "plan"], "--attr 'plan' is not of the form name=value."),
        ([*evaluate, "--attr", "=beta"], "--attr '=beta' is not of the form name=value."),
        ([*evaluate, "--attr", "a=1", "--attr", "a=2"],
         "--attr a is given twice: give each attribute once."),
        (["flag", "show", "a\x00b"],
         "'a\\x00b' is not a valid flag key: use letters, digits, '_', '.' or '-'."),
        (["history", "k" * 500], f"'{'k' * 59}…' is not a valid flag key: use letters, digits, "
         "'_', '.' or '-'."),
        (["release", "show", "12a"],
         "ID '12a' is not a release id: write the number release start printed, such as 12."),
    ]:
        assert gate.fail(*args, code=2) == error, args
    nothing_changed(gate)


@pytest.mark.parametrize(("option", "args"), [
    ("--by", ["release", "start", KEY, "--value", "true", "--by"]),
    ("--by", ["flag", "create", "x", "--kind", "gate", "--pipeline", "standard", "--value",
              "true", "--by"]),
    ("--as", ["release", "act", "1", "pause", "--as"]),
])
def test_nobody_is_not_an_actor(gate: Cli, option: str, args: list[str]) -> None:
    who = "give the Slack user id of who acts, such as U0123ABCD."
    for actor, problem in [
        ("", "is empty"),
        ("   ", "is empty"),
        ("U0" + "X" * 200, "is longer than 100 characters"),
        ("U0\nDEV", "contains a control character, a line break or invalid Unicode"),
        ("U0\x00DEV", "contains a control character, a line break or invalid Unicode"),
        ("U0\udcffDEV", "contains a control character, a line break or invalid Unicode"),
    ]:
        assert gate.fail(*args, actor, code=2) == f"{option} {problem}: {who}", actor
    nothing_changed(gate)


def test_ids_beyond_any_release_are_no_such_release(gate: Cli) -> None:
    assert gate.fail("release", "show", "99999999999999999999999") == (
        "There is no release #99999999999999999999999."
    )
    assert gate.fail("release", "act", "9" * 5000, "pause", "--as", DEV) == (
        f"There is no release #{'9' * 59}…."
    )
    assert gate.fail("release", "show", "0") == "There is no release #0."


def test_an_attribute_value_may_contain_equals_signs(gate: Cli) -> None:
    assert gate.eval(KEY, "production", "u1", "query=a=b") is False


def test_click_usage_mistakes_exit_2_without_a_traceback(sqlite_cli: Cli) -> None:
    for args, error in [
        (["release", "act", "1", "promote", "--as", DEV],
         "Invalid value for '{abort|approve|full-rollout|pause|skip|unpause}': 'promote' is not "
         "one of 'abort', 'approve', 'full-rollout', 'pause', 'skip', 'unpause' — see "
         "release-bot release act --help."),
        (["release", "act", "1", "pause"],
         "Missing option '--as' — see release-bot release act --help."),
        (["release", "show", "-5"], "No such option '-5' — see release-bot release show --help."),
        (["--colour", "flag", "list"], "No such option '--colour' — see release-bot --help."),
        (["flag", "list", "extra\nline"],
         "Got unexpected extra argument (extra\\nline) — see release-bot flag list --help."),
    ]:
        assert sqlite_cli.fail(*args, code=2) == error, args


def test_a_value_that_does_not_fit_is_quoted_as_the_json_typed(sqlite_cli: Cli) -> None:
    message = sqlite_cli.fail(
        "flag", "create", "c", "--kind", "config", "--pipeline", "standard", "--value", "true",
        code=2,
    )
    assert message == "A dynamic config's value must be a JSON object, not true."


def test_a_phase_not_reached_yet_is_not_called_out_of_date(sqlite_cli: Cli) -> None:
    sqlite_cli.ok(
        "flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false"
    )
    release_id = sqlite_cli.start(KEY, "true", DEV)
    message = sqlite_cli.fail(
        "release", "act", str(release_id), "skip", "--as", MGR, "--phase", "3"
    )
    assert "out of date" not in message


@pytest.mark.parametrize(
    ("port", "problem"),
    [
        ("0", "PORT is not valid ('0'): write a whole number from 1 to 65535, such as 3000."),
        ("65536", "PORT is not valid ('65536'): write a whole number from 1 to 65535"),
        ("http", "PORT is not valid ('http'): write a whole number"),
        ("80.5", "PORT is not valid ('80.5'): write a whole number"),
    ],
)
def test_a_bad_setting_is_one_sentence_not_a_traceback(
    sqlite_cli: Cli, port: str, problem: str
) -> None:
    result = sqlite_cli.invoke("flag", "list", env={"PORT": port})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {problem}") and result.stderr.count("\n") == 1


def test_a_port_is_read_as_a_number(sqlite_cli: Cli) -> None:
    for port in ["8080", " 8080 "]:
        assert sqlite_cli.ok("flag", "list", env={"PORT": port}) == "", port


def test_a_row_too_broken_to_read_is_one_sentence_not_a_traceback(sqlite_cli: Cli) -> None:
    sqlite_cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard",
                  "--value", "false")
    release_id = sqlite_cli.start(KEY, "true", DEV)
    engine = create_engine(str(sqlite_cli.database_url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE releases SET phase = 99 WHERE id = :id"),
                           {"id": release_id})
    engine.dispose()
    message = sqlite_cli.fail("release", "show", str(release_id))
    assert message.startswith("release-bot failed unexpectedly (IndexError")
    assert "Traceback" not in message and sentence(message)
