"""Generated pipelines files — the right structure with wild values, and broken text — are either
a usable config or refused with one sentence per problem naming the file and its line; no other
exception ever escapes. Each property counts what it saw (run with -s to print the counts)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from release_bot.bot.runtime.pipelines_config import PipelinesConfig, PipelinesFileError
from release_bot.bot.runtime.pipelines_file import parse_pipelines
from tests.support.cli_support import EXAMPLE

EXAMPLE_TEXT = EXAMPLE.read_text()
PROBLEM = re.compile(r"f\.yml:[1-9][0-9]*: [^\n]{1,400}")
MORE = re.compile(r"f\.yml: … and [0-9]+ more problems")
EXAMPLES = 150

# values a person might write anywhere: right ones and the wrong kinds a file can hold
scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(), st.text(max_size=12), st.sampled_from(["", " ", "\x00", "\ud800", "²", "1e400"]),
)
wild = scalars | st.lists(st.integers(), max_size=2) | st.dictionaries(
    st.text(max_size=3), st.none(), max_size=2)


def mostly(
    right: st.SearchStrategy[Any], other: st.SearchStrategy[Any] | None = None
) -> st.SearchStrategy[Any]:
    """A right value 19 times in 20, else a wrong one, so that files with a single mistake
    come often and some files are right throughout."""
    wrong = wild if other is None else other
    return st.integers(min_value=0, max_value=19).flatmap(lambda n: wrong if n == 19 else right)


wrong_durations = st.sampled_from(["59s", "366d", "99999999999d", "3000000d", "1.5h", "30m1h",
                                  "90"]) | wild
bakes = mostly(st.sampled_from(["0s", "1s", "90s", "1h30m", "365d"]), wrong_durations)
intervals = mostly(st.sampled_from(["1m", "1h30m", "365d"]), wrong_durations)
principals = mostly(st.sampled_from(["@approvers", "@release-managers", "S0GROUP", "U0AAA",
                                     "U0BBB", "W0CCC"]),
                    st.sampled_from(["approvers", "@", "U", "U0AAA\n"]) | wild)
users = mostly(st.sampled_from(["U0AAA", "U0BBB", "W0CCC"]), principals)
environments = mostly(st.sampled_from(["staging", "production", "eu-west.1"]),
                      st.sampled_from(["", "a b", "x" * 100]) | wild)
percentages = mostly(st.sampled_from([None, 10, 10.5, 50, 100]),
                     st.sampled_from([101, -1, True, float("nan")]) | wild)
actions = st.sampled_from(["approve", "pause", "unpause", "skip", "abort", "full_rollout",
                           "full-rollout", "skipp"])


def _maybe(draw: st.DrawFn, key: str, values: st.SearchStrategy[Any], into: dict[str, Any]) -> None:
    if draw(st.booleans()):
        into[key] = draw(values)


@st.composite
def phases(draw: st.DrawFn) -> dict[str, Any]:
    """One entry of `phases:` with some of its settings, each right or wild."""
    phase: dict[str, Any] = {"name": draw(mostly(st.sampled_from(["Staging", "Canary", "All"]))),
                             "environments": draw(st.lists(environments, min_size=1, max_size=3,
                                                           unique_by=repr))}
    _maybe(draw, "percentage", percentages, phase)
    _maybe(draw, "bake", bakes, phase)
    _maybe(draw, "match", st.dictionaries(mostly(st.sampled_from(["plan", "country"]), scalars),
                                          mostly(st.lists(st.text(max_size=5), max_size=2)),
                                          max_size=2), phase)
    approval: dict[str, Any] = {}
    _maybe(draw, "groups", st.lists(principals, min_size=1, max_size=3), approval)
    _maybe(draw, "required", mostly(st.integers(min_value=1, max_value=3),
                                    st.integers(min_value=-1, max_value=101) | wild), approval)
    _maybe(draw, "approval", mostly(st.just(approval)), phase)
    if not draw(mostly(st.just(True))):
        phase[draw(st.sampled_from(["bake_time", "stage", "percent"]))] = draw(wild)
    return phase


@st.composite
def pipeline_files(draw: st.DrawFn) -> str:
    """A file of the right structure whose values are drawn from the right and the wild."""
    pipeline: dict[str, Any] = {"phases": draw(mostly(st.lists(
        phases(), min_size=1, max_size=4, unique_by=lambda phase: repr(phase["name"]))))}
    for key, values in [("remind_every", intervals), ("escalate_after", intervals),
                        ("allow_self_approval", mostly(st.booleans())),
                        ("escalate_to", st.lists(principals, max_size=2)),
                        ("permissions", st.dictionaries(
                            actions, mostly(st.lists(principals, min_size=1, max_size=2)),
                            max_size=3))]:
        _maybe(draw, key, values, pipeline)
    name = draw(mostly(st.sampled_from(["standard", "p-1"]), scalars))
    data: dict[str, Any] = {"pipelines": {name: pipeline}}
    _maybe(draw, "members", st.dictionaries(mostly(st.sampled_from(["@approvers", "S0GROUP"]),
                                                   scalars), st.lists(users, max_size=3),
                                            max_size=2), data)
    return yaml.safe_dump(data, allow_unicode=True)


@st.composite
def broken_files(draw: st.DrawFn) -> str:
    """The example with lines dropped, doubled or cut, and YAML's own tokens dropped in."""
    lines = EXAMPLE_TEXT.splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        change = draw(st.sampled_from(["drop", "double", "cut", "insert"]))
        if change == "drop":
            del lines[index]
        elif change == "double":
            lines.insert(index, lines[index])
        elif change == "cut":
            lines[index] = lines[index][: draw(st.integers(min_value=0, max_value=40))]
        else:
            token = draw(st.sampled_from(["&a ", "*a", "[", "]", "{", "}", ":", "- ", "\t", "? ",
                                          "!!int ", "<<: *a", '"\\0"', "'", "#", "%YAML 1.1"]))
            at = draw(st.integers(min_value=0, max_value=len(lines[index])))
            lines[index] = lines[index][:at] + token + lines[index][at:]
    return "\n".join(lines) + "\n"


def _within_limits(config: PipelinesConfig) -> None:
    """What an accepted file promises the rest of the bot: every value typed and in range."""
    for pipeline in config.pipelines.values():
        for interval in (pipeline.remind_every, pipeline.escalate_after):
            assert timedelta(minutes=1) <= interval <= timedelta(days=365)
        for phase in pipeline.phases:
            assert timedelta(0) <= phase.bake <= timedelta(days=365)
            assert phase.environments and all(isinstance(e, str) and e for e in phase.environments)
            assert phase.percentage is None or (
                type(phase.percentage) in (int, float) and 0 <= phase.percentage <= 100
            )
            assert phase.approval is None or type(phase.approval.required) is int
        assert all(principals for principals in pipeline.permissions.values())


def _check(seen: Counter[str]) -> Callable[[str], None]:
    def parse(text: str) -> None:
        try:
            config = parse_pipelines(text, "f.yml")
        except PipelinesFileError as error:
            lines = str(error).splitlines()
            assert lines, "a refusal says something"
            assert all(PROBLEM.fullmatch(line) for line in lines if not MORE.fullmatch(line)), lines
            outcome = "refused"
        else:
            _within_limits(config)
            outcome = "accepted"
        seen[outcome] += 1
        event(outcome)

    return parse


FAST = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def test_files_of_the_right_structure_with_wild_values() -> None:
    seen: Counter[str] = Counter()
    FAST(given(pipeline_files())(_check(seen)))()
    print(f"\nright structure, wild values: {dict(seen)}")
    assert seen["accepted"] and seen["refused"], seen


def test_broken_files_and_raw_text() -> None:
    seen: Counter[str] = Counter()
    FAST(given(broken_files() | st.text(max_size=200))(_check(seen)))()
    print(f"\nbroken structure and raw text: {dict(seen)}")
    assert seen["refused"], seen
