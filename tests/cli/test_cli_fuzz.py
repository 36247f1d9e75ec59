"""Fuzzing the command line with generated values, keys, ids, actors and attributes, in-process
on SQLite and Postgres (bounded: 100 inputs a property on SQLite, 30 on Postgres).

Properties: release-bot never crashes; it exits 0, 1 or 2; a refusal is one `error:` line on
stderr and nothing on stdout; and anything refused leaves the database as it was — at most
one history row more, the refused attempt itself, saying what was printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release_bot.bot.cli.common import one_line
from release_bot.core.service import FLAG_KEY, MAX_ID
from release_bot.core.values import MAX_DEPTH
from tests.support.cli_support import AAA, BBB, DEV, MGR, OUTSIDER, Cli

EXAMPLES = {"sqlite": 100, "postgres": 30}
GATE, CONFIG = "fuzz_gate", "fuzz_config"

# --- what is generated -----------------------------------------------------------------------

odd_text = st.text(st.characters(codec=None, categories=["Cc", "Cs", "Zl", "Zs", "Nd", "No"]),
                   max_size=8)
texts = st.one_of(st.text(max_size=30), odd_text, st.sampled_from(["", " ", "x" * 5000]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=12,
)
value_texts = st.one_of(
    json_values.map(json.dumps),
    texts,
    st.integers(1, 2 * MAX_DEPTH).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(["1e400", "-0", str(2**63), "9" * 5000, '{"x": 1e22}', '{"x": 9.2e18}',
                     '{"a": 1, "a": 2}', '"\\u0000"', '"\\ud800"', '{"limit": 5}', "true",
                     "false", "NaN", "[1, 2", "x" * 70_000]),
)
flag_keys = st.one_of(st.from_regex(FLAG_KEY, fullmatch=True), texts,
                      st.sampled_from([GATE, CONFIG, "nope", "a b", "k" * 101]))
ids = st.one_of(st.integers(-5, 2**70).map(str), texts,
                st.sampled_from(["1", " 1 ", "01", "+1", "²", "١", "1_0", "9" * 5000]))
actors = st.one_of(st.sampled_from([DEV, MGR, AAA, BBB, OUTSIDER]), texts)


# --- running and checking --------------------------------------------------------------------

def fuzz(cli: Cli, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    """Run check on as many generated cases as this database's budget allows — all of them."""
    database = "sqlite" if (cli.database_url or "").startswith("sqlite") else "postgres"

    @settings(max_examples=EXAMPLES[database], deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(strategy)
    def holds(case: Any) -> None:
        seen.append(case)
        check(case)

    seen: list[Any] = []
    holds()
    assert len(seen) >= EXAMPLES[database], f"only {len(seen)} inputs were generated"


def run(cli: Cli, *args: str) -> Result:
    """Run a command line that must not crash, exit 0, 1 or 2, and refuse in one line."""
    result = cli.invoke(*args)  # a traceback fails here
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.stderr)
    if result.exit_code:
        lines = result.stderr.splitlines()
        assert result.stdout == "" and len(lines) == 1, (args, result.stdout, result.stderr)
        assert lines[0].startswith("error: ") and "Traceback" not in lines[0], lines
    return result


def kept_as_refused(before: list[Any], after: list[Any], result: Result) -> bool:
    """The history is as it was, or has one more row: the refused attempt, as printed."""
    if after == before:
        return True
    printed = result.stderr.removeprefix("error: ").rstrip("\n")
    extra = after[len(before):]
    return (after[:len(before)] == before and len(extra) == 1
            and extra[0]["outcome"] in ("refused", "denied")
            and one_line(extra[0]["message"]) == printed)


def flag_as_shown(cli: Cli, key: str) -> tuple[int, str]:
    """`flag show KEY --json`: its exit code and output (a refusal, when there is no flag)."""
    result = run(cli, "flag", "show", key, "--json")
    return result.exit_code, result.stdout


@pytest.fixture
def flags(cli: Cli) -> Cli:
    """A gate and a config on the standard pipeline."""
    cli.ok("flag", "create", GATE, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    cli.ok("flag", "create", CONFIG, "--kind", "config", "--pipeline", "standard",
           "--value", '{"limit": 1}')
    return cli


# --- properties ------------------------------------------------------------------------------

def test_ids_beyond_the_id_column_are_no_such_release(flags: Cli) -> None:
    """Postgres's INTEGER ids stop at 2**31 - 1; a larger id is unknown, not a database fault."""
    for release_id in (str(MAX_ID), str(MAX_ID + 1), str(2**63), "9" * 30):
        assert flags.fail("release", "act", release_id, "pause", "--as", DEV).startswith(
            "There is no release #"), release_id


def test_numbers_at_the_edge_come_back_as_given_or_are_refused(flags: Cli) -> None:
    """Postgres keeps JSON numbers as decimals: 1e300 would come back as a 301-digit integer."""
    for value in ['{"a": 9.2e18, "b": 0.1, "c": 5e-324, "d": -9223372036854775808}',
                  '{"a": 1e-320, "b": 0.30000000000000004, "c": 123456789.123456789}']:
        release_id = flags.start(CONFIG, value, DEV)
        assert flags.show(release_id)["to_value"] == json.loads(value)
        flags.act(release_id, "abort", DEV, "--reason", "edge")
    for value in ['{"a": 1.7976931348623157e308}', '{"a": 1e22}', '{"a": -1e19}']:
        assert "is too large: numbers must fit in 64 bits" in flags.fail(
            "release", "start", CONFIG, "--value", value, "--by", DEV, code=2)


def test_generated_values_are_stored_as_given_or_refused_without_a_trace(flags: Cli) -> None:
    cli = flags

    def check(case: tuple[str, str]) -> None:
        key, value = case
        before, history = flag_as_shown(cli, key), cli.history(key)
        result = run(cli, "release", "start", key, "--value", value, "--by", DEV)
        if result.exit_code:
            assert flag_as_shown(cli, key) == before, value
            assert kept_as_refused(history, cli.history(key), result), value
            return
        release_id = int(result.stdout.splitlines()[-1])
        assert cli.show(release_id)["to_value"] == json.loads(value)
        cli.act(release_id, "abort", DEV, "--reason", "fuzz")

    fuzz(cli, st.tuples(st.sampled_from([GATE, CONFIG]), value_texts), check)


def test_generated_keys_and_values_create_a_flag_or_nothing(flags: Cli) -> None:
    cli = flags

    def check(case: tuple[str, str, str]) -> None:
        key, kind, value = case
        before = flag_as_shown(cli, key)
        result = run(cli, "flag", "create", key, "--kind", kind, "--pipeline", "standard",
                     "--value", value, "--by", "fuzz")
        if result.exit_code:
            assert flag_as_shown(cli, key) == before, case
            return
        assert FLAG_KEY.fullmatch(key), key
        assert cli.json("flag", "show", key)["value"] == json.loads(value)
        assert [e["action"] for e in cli.history(key)] == ["create"]

    fuzz(cli, st.tuples(flag_keys, st.sampled_from(["gate", "config"]), value_texts), check)


Act = tuple[str | None, str, str, str | None, str | None]


def test_generated_ids_phases_actors_and_reasons_change_nothing_refused(flags: Cli) -> None:
    cli = flags
    release_id = cli.start(GATE, "true", DEV)

    def check(case: Act) -> None:
        nonlocal release_id
        target, action, actor, phase, reason = case
        target = str(release_id) if target is None else target
        args = ["release", "act", target, action, "--as", actor]
        args += [] if phase is None else ["--phase", phase]
        args += [] if reason is None else ["--reason", reason]
        before, history = cli.show(release_id), cli.history(GATE)
        result = run(cli, *args)
        digits = target.strip()
        if digits.isascii() and digits.isdigit() and (
                len(digits.lstrip("0")) > len(str(MAX_ID)) or int(digits) > MAX_ID):
            assert result.exit_code == 2 or "There is no release #" in result.stderr, args
        after = cli.show(release_id)
        if result.exit_code:
            assert after == before, args
            assert kept_as_refused(history, cli.history(GATE), result), args
        if after["state"] in ("completed", "aborted"):
            value = cli.json("flag", "show", GATE)["value"]
            release_id = cli.start(GATE, json.dumps(not value), DEV)

    fuzz(cli, st.tuples(
        st.none() | ids,
        st.sampled_from(["approve", "pause", "unpause", "skip", "abort", "full-rollout"]),
        actors,
        st.none() | st.sampled_from(["1", "2", "3"]) | ids,
        st.none() | texts,
    ), check)


def test_generated_moves_move_the_flag_or_nothing(flags: Cli) -> None:
    cli = flags

    def check(case: tuple[str, str, str]) -> None:
        key, pipeline, actor = case
        before, history = flag_as_shown(cli, key), cli.history(GATE)
        result = run(cli, "flag", "move", key, "--pipeline", pipeline, "--by", actor)
        if result.exit_code:
            assert (flag_as_shown(cli, key), cli.history(GATE)) == (before, history), case
            return
        assert cli.json("flag", "show", key)["pipeline"] == pipeline.strip()
        assert cli.history(key)[-1]["action"] == "move"

    fuzz(cli, st.tuples(st.sampled_from([GATE]) | flag_keys,
                        st.sampled_from(["fast", "standard"]) | texts, actors), check)


def test_generated_attributes_units_and_environments_are_served_or_refused(flags: Cli) -> None:
    cli = flags
    pairs = st.one_of(st.tuples(texts, texts).map("=".join), texts)

    def check(case: tuple[str, str, str, list[str]]) -> None:
        key, env, unit, attrs = case
        args = ["eval", key, "--env", env, "--unit", unit]
        for pair in attrs:
            args += ["--attr", pair]
        result = run(cli, *args)
        if not result.exit_code:
            assert json.loads(result.stdout) in (False, {"limit": 1}), args

    fuzz(cli, st.tuples(st.sampled_from([GATE, CONFIG]) | flag_keys,
                        st.sampled_from(["production", "staging"]) | texts,
                        st.sampled_from(["user-1", "u2"]) | texts,
                        st.lists(pairs, max_size=3)), check)
