"""The guardrail rules, pure: measurements in, verdicts and decisions out; the held bake."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest

from release_bot.core import machine
from release_bot.core.guardrails import (
    BLIND_LIMIT,
    Measurement,
    bake_hold,
    first_state,
    live_checks,
    measure,
    next_due,
    parse_condition,
    verdict,
)
from release_bot.core.models import (
    GUARDRAIL_ACTOR,
    Action,
    Check,
    CheckState,
    Command,
    OnFail,
    Phase,
    Release,
    ReleaseState,
    Verdict,
)
from release_bot.core.sentences import say
from tests.support.fakes import NOW, Everyone, act, canary, pipeline_of, staging, started

ERRORS = Check("error rate", "sum(rate(errors[5m]))", ">", 0.01, timedelta(seconds=10),
               failures=2, on_fail=OnFail.ABORT)
LATENCY = Check("latency", "p99", ">=", 0.5, timedelta(seconds=10))
LATER = Phase(name="Later", environments=("production",), bake=timedelta(hours=1))


def reading(value: float | None, seconds: int = 0) -> Measurement:
    return Measurement(value, NOW + timedelta(seconds=seconds), None if value is not None
                       else "no series")


def run(check: Check, *values: float | None) -> tuple[CheckState, list[OnFail | None]]:
    """Measure the values one after another; the final state and each decision."""
    state = first_state(0, check, NOW)
    acts = []
    for i, value in enumerate(values):
        measured = measure(check, state, reading(value, i), NOW)
        state = measured.after
        acts.append(measured.act)
    return state, acts


@pytest.mark.parametrize(("text", "parsed"), [
    ("> 0.01", (">", 0.01)), (">=1", (">=", 1.0)), ("  < -3e2 ", ("<", -300.0)),
    ("<= .5", ("<=", 0.5)), ("== 0", ("==", 0.0)),
])
def test_conditions_read_as_the_file_writes_them(text: str, parsed: tuple[str, float]) -> None:
    assert parse_condition(text) == parsed


@pytest.mark.parametrize("text", ["0.01", "=> 1", "> ", "> 1e999", "!= 1", 0.5, None, "> nan"])
def test_a_condition_that_is_not_a_comparison_and_a_number_is_one_sentence(text: object) -> None:
    with pytest.raises(ValueError, match=r"is not a condition: write a comparison") as error:
        parse_condition(text)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("value", "expected"), [
    (0.02, Verdict.FAIL), (0.01, Verdict.PASS), (0.0, Verdict.PASS), (None, Verdict.NO_DATA),
    (math.nan, Verdict.NO_DATA), (math.inf, Verdict.NO_DATA),
])
def test_a_value_passes_fails_or_is_no_data(value: float | None, expected: Verdict) -> None:
    assert verdict(ERRORS, value) is expected


def test_failures_in_a_row_trigger_on_fail_and_a_pass_resets_the_count() -> None:
    state, acts = run(ERRORS, 0.02, 0.001, 0.02, 0.03)
    assert acts == [None, None, None, OnFail.ABORT]
    assert state.failures == 2 and state.value == 0.03 and state.verdict is Verdict.FAIL


def test_one_failure_is_enough_by_default_and_pauses() -> None:
    _, acts = run(LATENCY, 0.5)
    assert acts == [OnFail.PAUSE]


def test_three_blind_measurements_in_a_row_pause_whatever_on_fail_says() -> None:
    state, acts = run(ERRORS, None, None, None)
    assert BLIND_LIMIT == 3
    assert acts == [None, None, OnFail.PAUSE]
    assert state.verdict is Verdict.NO_DATA and state.value is None and state.blind == 3
    assert state.detail == "no series"


def test_no_data_neither_counts_as_a_failure_nor_keeps_one_counted() -> None:
    _, acts = run(ERRORS, 0.02, None, 0.02)
    assert acts == [None, None, None]


def test_the_verdict_change_is_what_the_history_keeps() -> None:
    state = first_state(0, LATENCY, NOW)
    first = measure(LATENCY, state, reading(0.1), NOW)
    again = measure(LATENCY, first.after, reading(0.2), NOW)
    worse = measure(LATENCY, again.after, reading(0.9), NOW)
    assert [first.changed, again.changed, worse.changed] == [True, False, True]


def test_the_schedule_keeps_its_pace_and_never_falls_into_the_past() -> None:
    assert first_state(1, replace(ERRORS, after=timedelta(minutes=2)), NOW).due_at == (
        NOW + timedelta(minutes=2))
    assert next_due(ERRORS, NOW, NOW + timedelta(seconds=1)) == NOW + timedelta(seconds=10)
    assert next_due(ERRORS, NOW, NOW + timedelta(minutes=1)) == NOW + timedelta(minutes=1)


# --- the machine: a bake held by its checks, the guardrail actor, overrides -------------------

def watched(*checks: Check) -> Release:
    """A release baking its first phase (30m), which has these checks, followed by a second."""
    return started(pipeline_of(staging(checks=checks), LATER))


def with_state(release: Release, check: Check, value: float | None) -> Release:
    state = measure(check, first_state(0, check, NOW), reading(value), NOW).after
    others = tuple(c for c in release.checks if c.name != check.name)
    return replace(release, checks=(*others, state))


def test_a_bake_ends_only_when_the_latest_measurement_of_every_check_passed() -> None:
    release = with_state(watched(ERRORS, LATENCY), ERRORS, 0.001)
    end = NOW + timedelta(minutes=30)
    held = machine.timer_end(release, end)
    assert held is not None
    after = held.release
    assert after.state is ReleaseState.BAKING and after.phase == 0
    assert after.held_since == end and after.bake_ends_at is None
    assert "held: check latency has not been measured yet" in held.events[0].message
    assert machine.timer_end(after, end + timedelta(minutes=5)) is None  # still held, no noise
    failing = with_state(after, LATENCY, 0.7)
    assert machine.timer_end(failing, end) is None
    hold = machine.after_bake(failing)
    assert hold is not None and hold.held_by is not None
    assert "check latency failed: 0.7 (fails if >= 0.5)" in hold.held_by.plain
    passing = with_state(failing, LATENCY, 0.2)
    ended = machine.timer_end(passing, end + timedelta(minutes=6))
    assert ended is not None and ended.release.phase == 1
    assert ended.events[0].message == "the bake of phase Staging ended once its checks passed"


def test_a_phase_without_a_bake_but_with_checks_waits_for_them() -> None:
    release = started(pipeline_of(staging(bake=timedelta(0), checks=(LATENCY,)),
                                  LATER))
    assert release.phase == 0 and release.bake_ends_at == NOW
    assert machine.timer_end(release, NOW) is not None
    assert machine.timer_end(release, NOW).release.held_since == NOW  # type: ignore[union-attr]


@pytest.mark.parametrize("action", [Action.SKIP, Action.FULL_ROLLOUT])
def test_skip_and_full_roll_out_go_past_a_failing_check_and_say_so(action: Action) -> None:
    release = with_state(watched(ERRORS), ERRORS, 0.5)
    preview = machine.preview(release, action, "U0MGR", NOW)
    assert preview.overrides is not None and "check error rate failed" in preview.overrides.plain
    command = Command(release.id or 0, action, "U0MGR", phase=release.phase)
    transition = machine.decide(release, command, NOW, Everyone())
    message = transition.events[0].message
    assert ", overriding check error rate failed: 0.5 (fails if > 0.01)" in message


def test_skip_over_passing_checks_mentions_none() -> None:
    release = with_state(watched(ERRORS), ERRORS, 0.0)
    assert machine.preview(release, Action.SKIP, "U0MGR", NOW).overrides is None
    skipped = act(release, Action.SKIP)
    assert skipped.phase == 1


def test_the_guardrail_aborts_with_its_reason_as_its_own_actor() -> None:
    release = watched(ERRORS)
    reason = say("check {c:name} failed", c="error rate")
    transition = machine.guard(release, OnFail.ABORT, reason, NOW)
    assert transition is not None
    event = transition.events[0]
    assert transition.release.state is ReleaseState.ABORTED
    assert (event.actor, event.action, event.reason) == (GUARDRAIL_ACTOR, "abort",
                                                          "check error rate failed")
    taken = transition.notifications[1]
    assert taken.data["actor"] == GUARDRAIL_ACTOR and taken.data["reason"] == event.reason


def test_the_guardrail_pauses_a_bake_and_leaves_a_paused_or_waiting_release_alone() -> None:
    release = watched(LATENCY)
    reason = say("bad")
    paused = machine.guard(release, OnFail.PAUSE, reason, NOW)
    assert paused is not None and paused.release.state is ReleaseState.PAUSED
    assert machine.guard(paused.release, OnFail.PAUSE, reason, NOW) is None
    first = with_state(started(pipeline_of(staging(checks=(LATENCY,)), canary())), LATENCY, 0.1)
    ended = machine.timer_end(first, NOW + timedelta(hours=1))
    assert ended is not None
    waiting = ended.release
    assert waiting.state is ReleaseState.AWAITING_APPROVAL
    assert machine.guard(waiting, OnFail.PAUSE, reason, NOW) is None
    assert machine.guard(waiting, OnFail.ABORT, reason, NOW) is not None


def test_live_checks_list_every_check_of_every_live_phase_with_its_state() -> None:
    release = with_state(watched(ERRORS, LATENCY), LATENCY, 0.9)
    views = live_checks(release)
    assert [(v.check.name, v.state.verdict) for v in views] == [
        ("error rate", None), ("latency", Verdict.FAIL)]
    assert bake_hold(release) is not None



def test_the_guardrail_is_not_subject_to_the_pipelines_permissions() -> None:
    locked = pipeline_of(staging(checks=(LATENCY,)), LATER,
                         permissions={Action.PAUSE: ("@eng",), Action.ABORT: ("@eng",)})
    release = started(locked)
    for act_as, state in ((OnFail.PAUSE, ReleaseState.PAUSED),
                          (OnFail.ABORT, ReleaseState.ABORTED)):
        transition = machine.guard(release, act_as, say("bad"), NOW)
        assert transition is not None and transition.release.state is state
