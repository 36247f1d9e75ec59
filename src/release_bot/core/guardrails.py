"""Guardrail rules: a measurement's verdict, when checks act on a release, what holds a bake.

Pure: measurements come in (a value or no data, at a time), decisions go out. The runner
measures; the service records; `machine` acts on the decisions as the `guardrail` actor.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from release_bot.core.models import (
    COMPARISONS,
    Check,
    CheckState,
    OnFail,
    Release,
    Verdict,
)
from release_bot.core.quoting import shown
from release_bot.core.sentences import Sentence, say

# measurements in a row with no data that pause the release: a check that cannot see never
# counts as passing
BLIND_LIMIT = 3
_CONDITION = re.compile(
    r"\s*(<=|>=|==|<|>)\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*"
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
}
assert set(_COMPARE) == set(COMPARISONS)


def parse_condition(text: object) -> tuple[str, float]:
    """`> 0.01` as ('>', 0.01); ValueError with one sentence saying what to write instead."""
    match = _CONDITION.fullmatch(text) if isinstance(text, str) else None
    if match is None or not math.isfinite(float(match.group(2))):
        written = f"'{shown(text, 30)}'" if isinstance(text, str) else shown(repr(text), 30)
        raise ValueError(f"{written} is not a condition: write a comparison and a number in "
                         "quotes, such as \"> 0.01\" (the comparison is one of <, <=, >, >=, ==)")
    return match.group(1), float(match.group(2))


@dataclass(frozen=True)
class DueCheck:
    """A check claimed for measuring: which one, its query, and when it was due."""

    release_id: int
    phase: int
    name: str
    query: str
    due_at: datetime


@dataclass(frozen=True)
class Measurement:
    """One reading of a check's query: a number, or no data (`value` None) and why."""

    value: float | None
    at: datetime
    detail: str | None = None


def verdict(check: Check, value: float | None) -> Verdict:
    """Pass, fail or no data: NaN and infinities are no data too."""
    if value is None or not math.isfinite(value):
        return Verdict.NO_DATA
    return Verdict.FAIL if _COMPARE[check.comparison](value, check.threshold) else Verdict.PASS


@dataclass(frozen=True)
class Measured:
    """What one measurement makes of a check: its new state, and what the release must do."""

    before: CheckState
    after: CheckState
    act: OnFail | None

    @property
    def changed(self) -> bool:
        """True when the verdict differs from the one before (kept in the history)."""
        return self.before.verdict is not self.after.verdict


def measure(check: Check, state: CheckState, reading: Measurement, next_due: datetime
            ) -> Measured:
    """Count a reading: `failures` fails in a row act as on_fail, BLIND_LIMIT blind ones pause."""
    said = verdict(check, reading.value)
    value = reading.value if said is not Verdict.NO_DATA else None
    after = replace(
        state,
        due_at=next_due,
        verdict=said,
        value=value,
        measured_at=reading.at,
        failures=state.failures + 1 if said is Verdict.FAIL else 0,
        blind=state.blind + 1 if said is Verdict.NO_DATA else 0,
        detail=reading.detail if said is Verdict.NO_DATA else None,
    )
    act = None
    if said is Verdict.FAIL and after.failures >= check.failures:
        act = check.on_fail
    elif said is Verdict.NO_DATA and after.blind >= BLIND_LIMIT:
        act = OnFail.PAUSE
    return Measured(state, after, act)


def first_state(phase: int, check: Check, live_at: datetime) -> CheckState:
    """A check of a phase that just went live: first measured `after` from now."""
    return CheckState(phase=phase, name=check.name, due_at=live_at + check.after)


def next_due(check: Check, scheduled: datetime, now: datetime) -> datetime:
    """When to measure again: one `every` after the time it was due, never in the past."""
    return max(scheduled + check.every, now)


def _value(value: float | None) -> str:
    return "no data" if value is None else f"{value:g}"


def verdict_sentence(check: Check, state: CheckState) -> Sentence:
    """The latest measurement in words: `{error rate} failed: 0.05 (fails if > 0.01)`."""
    words = {"check": check.name, "value": _value(state.value), "cond": check.fail_if}
    if state.verdict is None:
        return say("check {check:name} has not been measured yet", **words)
    if state.verdict is Verdict.NO_DATA:
        return say("check {check:name} has no data ({why}; fails if {cond})",
                   why=state.detail or "no answer", **words)
    if state.verdict is Verdict.FAIL:
        return say("check {check:name} failed: {value} (fails if {cond})", **words)
    return say("check {check:name} passed: {value} (fails if {cond})", **words)


def action_reason(check: Check, state: CheckState) -> Sentence:
    """Why the guardrail acts: the check, its query, the value seen and the threshold."""
    words = {"check": check.name, "query": check.query, "value": _value(state.value),
             "cond": check.fail_if}
    if state.verdict is Verdict.NO_DATA:
        return say("check {check:name} had no data {n} times in a row ({why}) — query "
                   "{query:text}", n=state.blind, why=state.detail or "no answer", **words)
    return say("check {check:name} failed {n} time(s) in a row: query {query:text} gave "
               "{value}, which fails if {cond}", n=state.failures, **words)


@dataclass(frozen=True)
class CheckView:
    """One check of a live phase as a status shows it: its definition and latest state."""

    phase: int
    check: Check
    state: CheckState

    @property
    def sentence(self) -> Sentence:
        """Its latest measurement in words."""
        return verdict_sentence(self.check, self.state)


def live_checks(release: Release) -> tuple[CheckView, ...]:
    """Every check of the release's live phases, in phase then file order."""
    return tuple(
        CheckView(index, check, release.check_state(index, check.name)
                  or CheckState(index, check.name, due_at=None))
        for index in release.live_phases()
        for check in release.pipeline.phases[index].checks
    )


def _not_passing(release: Release, phases: tuple[int, ...]) -> tuple[CheckView, ...]:
    """Checks of these phases whose latest measurement did not pass (or that never ran)."""
    return tuple(
        view for view in live_checks(release)
        if view.phase in phases and view.state.verdict is not Verdict.PASS
    )


def _listed(views: tuple[CheckView, ...]) -> Sentence | None:
    """Several verdicts as one sentence, each in its own slots."""
    if not views:
        return None
    parts: list[str] = []
    params: dict[str, object] = {}
    for i, view in enumerate(views):
        template, slots = _renamed(view.sentence, f"c{i}_")
        parts.append(template)
        params |= slots
    return Sentence("; ".join(parts), params)


def _renamed(sentence: Sentence, prefix: str) -> tuple[str, dict[str, object]]:
    """A sentence's template and slots with every slot name prefixed, so two can be joined."""
    template = re.sub(r"\{(\w+)([:}])", lambda m: "{" + prefix + m.group(1) + m.group(2),
                      sentence.template)
    return template, {prefix + key: value for key, value in sentence.params.items()}


def bake_hold(release: Release) -> Sentence | None:
    """What keeps the current phase's bake from ending: each of its checks whose latest
    measurement did not pass; None when nothing does."""
    return _listed(_not_passing(release, (release.phase,)))


def overridden(release: Release) -> Sentence | None:
    """The failing or blind checks of every live phase a Skip or Full Roll Out goes past."""
    return _listed(_not_passing(release, release.live_phases()))


def joined(first: Sentence, second: Sentence, glue: str) -> Sentence:
    """Two sentences as one (`glue` between them); the second's slots kept apart."""
    template, slots = _renamed(second, "x_")
    return Sentence(first.template + glue + template, {**first.params, **slots})
