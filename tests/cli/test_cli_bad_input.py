"""Unknown flags, releases and pipelines (exit 1), values that do not fit a flag (exit 1) and
input that cannot be read (exit 2): one plain sentence each, and nothing is created.

None of this depends on the kind of database, so it runs on SQLite only."""

from __future__ import annotations

import pytest

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


def test_values_and_keys_that_do_not_fit_are_refused(gate: Cli) -> None:
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
        (["flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "true"],
         "Flag new_checkout already exists."),
    ]:
        message = gate.fail(*args)
        assert message.startswith(error), (args, message)
        assert sentence(message), message
    nothing_changed(gate)


def test_input_that_cannot_be_read_exits_2(gate: Cli) -> None:
    json_hint = "write it like true, false or '{\"limit\": 5}'."
    create = ["flag", "create", "x", "--kind", "config", "--pipeline", "standard"]
    evaluate = ["eval", KEY, "--env", "production", "--unit", "u1"]
    for args, error in [
        ([*create, "--value", "{bad"],
         "--value '{bad' is not valid JSON (Expecting property name enclosed in double quotes "
         f"at column 2): {json_hint}"),
        (["release", "start", KEY, "--value", "tru", "--by", DEV],
         f"--value 'tru' is not valid JSON (Expecting value at column 1): {json_hint}"),
        (["release", "start", KEY, "--value", "", "--by", DEV],
         f"--value '' is not valid JSON (Expecting value at column 1): {json_hint}"),
        ([*create, "--value", '{"ratio": NaN}'],
         "--value may not contain NaN: it is not part of JSON."),
        ([*create, "--value", '{"max": Infinity}'],
         "--value may not contain Infinity: it is not part of JSON."),
        ([*evaluate, "--attr", "plan"], "--attr 'plan' is not of the form name=value."),
        ([*evaluate, "--attr", "=beta"], "--attr '=beta' is not of the form name=value."),
    ]:
        assert gate.fail(*args, code=2) == error, args
    nothing_changed(gate)


def test_an_attribute_value_may_contain_equals_signs(gate: Cli) -> None:
    assert gate.eval(KEY, "production", "u1", "query=a=b") is False


def test_click_usage_mistakes_exit_2_without_a_traceback(sqlite_cli: Cli) -> None:
    result = sqlite_cli.invoke("release", "act", "1", "promote", "--as", DEV)
    assert result.exit_code == 2
    assert "'promote' is not one of 'abort', 'approve', 'full-rollout'" in result.stderr
    result = sqlite_cli.invoke("release", "show", "abc")
    assert result.exit_code == 2
    assert "'abc' is not a valid integer" in result.stderr
    result = sqlite_cli.invoke("release", "act", "1", "pause")
    assert result.exit_code == 2
    assert "Missing option '--as'" in result.stderr


def test_a_value_that_does_not_fit_is_quoted_as_the_json_typed(sqlite_cli: Cli) -> None:
    message = sqlite_cli.fail(
        "flag", "create", "c", "--kind", "config", "--pipeline", "standard", "--value", "true"
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
