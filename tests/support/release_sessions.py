"""A reference model of releases and the Hypothesis sessions that check ReleaseService against it.

Hypothesis drives trigger / approve / pause / unpause / skip / abort / full_rollout by a small pool
of users (the trigger person among them), with stale and missing phases, blank and real reasons,
and a fake clock that jumps forward with or without the scheduler's sweep. Actions are chosen
freely. Beside ReleaseService runs `ModelRelease`, the tests' own reading of DESIGN.md ("The state
machine" and "What a unit is served"): its state table, timers, approval counting, permissions
(from the membership map below) and buckets. Every action the model accepts must be carried out and
land where the model says; every other one must be refused or denied, change nothing and leave a
row in the history; the sweep must end exactly the due timers; and every probed unit must be served
what the model says, after every step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from itertools import count
from typing import Any

import mmh3
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from release_bot.core.errors import DomainError
from release_bot.core.models import (
    SYSTEM_ACTOR,
    Action,
    ApprovalGate,
    Command,
    Event,
    FlagKind,
    Outcome,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
)
from release_bot.core.service import ReleaseService
from tests.support.fakes import (
    ALICE,
    BOB,
    CAROL,
    NOW,
    TRIGGERER,
    FakeMembership,
    FakeStore,
    three_phase,
)

# --- people, pipelines and what the model knows of them ------------------------------------------

DAVE, EVE = "U0DAVE", "U0EVE"
USERS = (TRIGGERER, ALICE, BOB, CAROL, DAVE, EVE)
MEMBERS = {"@approvers": {TRIGGERER, ALICE, BOB, CAROL}, "@engineering": {TRIGGERER, ALICE, BOB}}
UNKNOWABLE = "S0FLAKY"                     # a group whose members cannot be looked up
H = timedelta(hours=1)
EU, US = {"region": "eu"}, {"region": "us"}

PIPELINES = {p.name: p for p in (
    three_phase(permissions={Action.PAUSE: ("@engineering",),
                             Action.ABORT: ("@engineering", DAVE)}),
    Pipeline(
        name="regional", allow_self_approval=True,
        permissions={Action.FULL_ROLLOUT: (CAROL,), Action.SKIP: (UNKNOWABLE, DAVE)},
        phases=(
            Phase("Canary", ("production",), percentage=10,
                  approval=ApprovalGate(("@approvers",), 1), bake=H),
            Phase("Half", ("production",), percentage=50, bake=timedelta(minutes=20)),
            Phase("EU", ("production",), match={"region": ("eu",)},
                  approval=ApprovalGate(("@approvers",), 2), bake=timedelta(minutes=30)),
            Phase("Everywhere", ("production", "staging")),
        ),
    ),
    Pipeline(
        name="thin",
        permissions={Action.APPROVE: ("@engineering", EVE), Action.UNPAUSE: ("@approvers",),
                     Action.SKIP: (BOB,)},
        phases=(
            Phase("Sliver", ("production",), percentage=2.5, approval=ApprovalGate((), 1),
                  bake=timedelta(minutes=45)),
            Phase("EU quarter", ("production",), percentage=25, match={"region": ("eu",)},
                  bake=timedelta(minutes=90)),
            Phase("Staging", ("staging",), approval=ApprovalGate(("@approvers",), 2),
                  bake=timedelta(minutes=10)),
            Phase("All", ("production", "staging")),
        ),
    ),
    Pipeline(name="quick", phases=(Phase("Staging", ("staging",)),
                                   Phase("Production", ("production",), bake=2 * H))),
)}
ENVIRONMENTS = ("staging", "production", "dev")            # dev is in no pipeline

ACCEPTS: Mapping[ReleaseState, frozenset[Action]] = {
    ReleaseState.AWAITING_APPROVAL: frozenset({Action.APPROVE, Action.ABORT, Action.FULL_ROLLOUT}),
    ReleaseState.BAKING: frozenset({Action.PAUSE, Action.SKIP, Action.ABORT, Action.FULL_ROLLOUT}),
    ReleaseState.PAUSED: frozenset({Action.UNPAUSE, Action.SKIP, Action.ABORT,
                                    Action.FULL_ROLLOUT}),
    ReleaseState.COMPLETED: frozenset(),
    ReleaseState.ABORTED: frozenset(),
}
LIVE = {PhaseStatus.BAKING, PhaseStatus.PAUSED, PhaseStatus.DONE, PhaseStatus.SKIPPED}
NOT_STARTED = {PhaseStatus.PENDING, PhaseStatus.AWAITING_APPROVAL}


# --- reference serving ---------------------------------------------------------------------------

def cbor_text(text: str) -> bytes:
    """RFC 8949 text string: major type 3 with the shortest length header."""
    data = text.encode()
    size = len(data)
    if size < 24:
        return bytes([0x60 + size]) + data
    width = 1 if size < 0x100 else 2 if size < 0x10000 else 4
    return bytes([0x78 + width.bit_length() - 1]) + size.to_bytes(width, "big") + data


def ref_bucket(key: str, unit: str) -> int:
    """flagd's fractional: murmur3 (x86, 32 bits) of the CBOR array [key, unit], × 10000 >> 32."""
    return mmh3.hash(b"\x82" + cbor_text(key) + cbor_text(unit), signed=False) * 10_000 >> 32


def threshold(percentage: float) -> int:
    """The first bucket outside a percentage."""
    return round(percentage * 100)


def ref_scope_matches(phase: Phase, env: str, unit_bucket: int, attrs: Mapping[str, str]) -> bool:
    """Environment, percentage and attribute match of one phase's scope."""
    return (env in phase.environments
            and (phase.percentage is None or unit_bucket < threshold(phase.percentage))
            and all(attrs.get(key) in allowed for key, allowed in phase.match.items()))


THRESHOLDS = sorted({threshold(p.percentage) for pipeline in PIPELINES.values()
                     for p in pipeline.phases if p.percentage is not None})


@cache
def units_at_thresholds(key: str) -> dict[int, str]:
    """For each bucket just under, at and just over a threshold, a unit id in that bucket."""
    wanted = {t + d for t in THRESHOLDS for d in (-1, 0, 1)}
    found: dict[int, str] = {}
    units = (f"user-{n}" for n in count())
    while len(found) < len(wanted):
        unit = next(units)
        if (b := ref_bucket(key, unit)) in wanted:
            found.setdefault(b, unit)
    return found


units_at_thresholds("f")                                   # the in-memory run's flag


Unit = tuple[str, Mapping[str, str]]
ORDINARY: tuple[Unit, ...] = (("unit-us", US), ("unit-plain", {}), ("unit-eu", {**EU, "x": "y"}))


def probes(key: str, pipeline: Pipeline, ordinary: tuple[Unit, ...]
           ) -> tuple[tuple[str, str, Mapping[str, str]], ...]:
    """(environment, unit, attributes) to evaluate: ordinary units and units around thresholds."""
    near = units_at_thresholds(key)
    found = []
    for env in ENVIRONMENTS:
        limits = sorted({threshold(p.percentage) for p in pipeline.phases
                         if p.percentage is not None and env in p.environments})
        # just inside, at and just outside each threshold the pipeline uses in env
        units = [(near[t + d], EU) for t in limits for d in (-1, 0, 1)]
        units += [(near[t], {}) for t in limits] + list(ordinary)
        found += [(env, unit, attrs) for unit, attrs in units]
    return tuple(found)


# --- reference state machine ---------------------------------------------------------------------

def may(actor: str, principals: tuple[str, ...] | None) -> bool:
    """Anyone when nobody is listed; else a listed user or a member of a listed group."""
    return principals is None or actor in principals or any(
        actor in MEMBERS.get(p, ()) for p in principals)


@dataclass
class ModelRelease:
    """A release as DESIGN.md's state table says it must be."""

    id: int
    pipeline: Pipeline
    triggered_by: str
    new_value: Any
    base: dict[str, Any]                                  # the flag's base value per environment
    state: ReleaseState = ReleaseState.AWAITING_APPROVAL
    phase: int = 0
    ends_at: datetime | None = None
    remaining: timedelta | None = None
    ended_at: datetime | None = None
    statuses: list[PhaseStatus] = field(default_factory=list)
    approvals: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def trigger(cls, release_id: int, pipeline: Pipeline, actor: str, new_value: Any,
                base: dict[str, Any], now: datetime) -> ModelRelease:
        """A release started at phase 0."""
        n = len(pipeline.phases)
        model = cls(release_id, pipeline, actor, new_value, base,
                    statuses=[PhaseStatus.PENDING] * n, approvals={i: [] for i in range(n)})
        model.enter(0, now)
        return model

    @property
    def active(self) -> bool:
        """Not completed nor aborted."""
        return not self.state.terminal

    def describe(self) -> str:
        """`baking(1)`, `completed`…"""
        return self.state.value if self.state.terminal else f"{self.state.value}({self.phase})"

    def live_phases(self) -> range:
        """Phases whose scope serves the new version: those passed, plus the current once live."""
        if not self.active:
            return range(0)
        return range(self.phase if self.state is ReleaseState.AWAITING_APPROVAL else self.phase + 1)

    def principals(self, action: Action) -> tuple[str, ...] | None:
        """Who may take the action now (approve: the gate's groups first); None: anyone."""
        gate = self.pipeline.phases[self.phase].approval
        if action is Action.APPROVE and gate is not None and gate.groups:
            return gate.groups
        return self.pipeline.permissions.get(action) or None

    def objections(self, command: Command) -> tuple[list[str], list[str]]:
        """Why the command must be refused, and why it must be denied (empty: carry it out)."""
        action, actor = command.action, command.actor
        refused, denied = [], []
        if not self.active:
            refused.append("the release has ended")
        if command.phase is not None and command.phase != self.phase:
            refused.append(f"issued for phase {command.phase}, the release is at {self.phase}")
        if action not in ACCEPTS[self.state]:
            refused.append(f"{self.describe()} does not accept {action}")
        if action is Action.ABORT and not (command.reason or "").strip():
            refused.append("abort without a reason")
        if not may(actor, self.principals(action)):
            denied.append(f"{actor} is not among {self.principals(action)}")
        if action is Action.APPROVE:
            if actor == self.triggered_by and not self.pipeline.allow_self_approval:
                denied.append("the trigger person approving")
            if actor in self.approvals[self.phase]:
                refused.append(f"{actor} approved phase {self.phase} already")
        return refused, denied

    def act(self, command: Command, now: datetime) -> None:
        """Carry out a command the model has no objection to."""
        action = command.action
        if action is Action.APPROVE:
            self.approvals[self.phase].append(command.actor)
            gate = self.pipeline.phases[self.phase].approval
            assert gate is not None
            if len(self.approvals[self.phase]) >= gate.required:
                self.go_live(self.phase, now)
        elif action is Action.PAUSE:
            assert self.ends_at is not None
            self.remaining = max(self.ends_at - now, timedelta(0))
            self.ends_at, self.state = None, ReleaseState.PAUSED
            self.statuses[self.phase] = PhaseStatus.PAUSED
        elif action is Action.UNPAUSE:
            assert self.remaining is not None
            self.ends_at, self.remaining = now + self.remaining, None
            self.state = ReleaseState.BAKING
            self.statuses[self.phase] = PhaseStatus.BAKING
        elif action is Action.SKIP:
            self.end_bake(PhaseStatus.SKIPPED, now)
        elif action is Action.ABORT:
            self.statuses = [PhaseStatus.REVERTED if s in LIVE else
                             PhaseStatus.CANCELLED if s in NOT_STARTED else s
                             for s in self.statuses]
            self.finish(ReleaseState.ABORTED, now)
        else:
            self.statuses = [PhaseStatus.SKIPPED if s in (PhaseStatus.BAKING, PhaseStatus.PAUSED)
                             else PhaseStatus.ROLLED_OUT if s in NOT_STARTED else s
                             for s in self.statuses]
            self.finish(ReleaseState.COMPLETED, now)

    def timer_due(self, now: datetime) -> bool:
        """True when a running bake timer has run out by now."""
        return (self.state is ReleaseState.BAKING and self.ends_at is not None
                and self.ends_at <= now)

    def enter(self, index: int, now: datetime) -> None:
        """Wait for the phase's approval if gated, else put it live."""
        if self.pipeline.phases[index].approval is None:
            self.go_live(index, now)
            return
        self.state, self.phase = ReleaseState.AWAITING_APPROVAL, index
        self.ends_at = self.remaining = None
        self.statuses[index] = PhaseStatus.AWAITING_APPROVAL

    def go_live(self, index: int, now: datetime) -> None:
        """The phase serves the new version and its bake starts (a zero bake ends at once)."""
        bake = self.pipeline.phases[index].bake
        self.state, self.phase = ReleaseState.BAKING, index
        self.ends_at, self.remaining = now + bake, None
        self.statuses[index] = PhaseStatus.BAKING
        if bake <= timedelta(0):
            self.end_bake(PhaseStatus.DONE, now)

    def end_bake(self, status: PhaseStatus, now: datetime) -> None:
        """The bake of the current phase is over: on to the next phase, or complete."""
        self.statuses[self.phase] = status
        if self.phase + 1 == len(self.pipeline.phases):
            self.finish(ReleaseState.COMPLETED, now)
        else:
            self.enter(self.phase + 1, now)

    def finish(self, state: ReleaseState, now: datetime) -> None:
        """Complete (the new value becomes every pipeline environment's base) or abort."""
        self.state, self.ends_at, self.remaining, self.ended_at = state, None, None, now
        if state is ReleaseState.COMPLETED:
            self.base.update(dict.fromkeys(self.pipeline.environments, self.new_value))

    def expected(self, key: str, env: str, unit: str, attrs: Mapping[str, str]) -> Any:
        """What the unit must be served."""
        unit_bucket = ref_bucket(key, unit)
        if any(ref_scope_matches(self.pipeline.phases[i], env, unit_bucket, attrs)
               for i in self.live_phases()):
            return self.new_value
        return self.base[env]


# --- the machine ---------------------------------------------------------------------------------

PHASE_CHOICES = ("current",) * 6 + ("none", "none", "older", "newer", "far")
REASONS = (None, "", "  ") + ("error rate up",) * 3
WAIT = st.sampled_from((0, 0, 0, 1, 5, 10, 25))       # minutes before a click, no sweep
MINUTES = st.one_of(st.integers(0, 45), st.sampled_from([60, 90, 120, 180, 24 * 60]))


class ReleaseSessions(RuleBasedStateMachine):
    """ReleaseService over a unit of work, stepped beside ModelRelease."""

    def __init__(self, uow: Callable[[], Any] | None = None, key: str = "f",
                 ordinary: tuple[Unit, ...] = ORDINARY) -> None:
        super().__init__()
        self.key, self.ordinary = key, ordinary
        self.svc = ReleaseService(uow or FakeStore().unit_of_work, PIPELINES,
                                  FakeMembership(MEMBERS, unavailable={UNKNOWABLE}))
        self.clock = NOW
        self.values_made = 0
        self.ended: dict[int, Release] = {}
        self.rows_seen = 0

    @initialize(pipeline=st.sampled_from(sorted(PIPELINES)), triggerer=st.sampled_from(USERS))
    def create_and_start(self, pipeline: str, triggerer: str) -> None:
        """A config flag on the pipeline, and a first release of it."""
        self.pipeline = PIPELINES[pipeline]
        self.probes = probes(self.key, self.pipeline, self.ordinary)
        self.svc.create_flag(self.key, FlagKind.CONFIG, pipeline, {"n": 0}, ALICE, self.clock)
        (created,) = self.new_rows()
        assert created.outcome is Outcome.OK
        self.base: dict[str, Any] = dict.fromkeys(ENVIRONMENTS, {"n": 0})
        self.start_release(triggerer)

    # --- helpers ---------------------------------------------------------------------------------

    def release(self) -> Release:
        """The current release as the service has it."""
        return self.svc.release(self.model.id)

    def new_rows(self) -> list[Event]:
        """The rows added to the flag's history since the last look."""
        rows = self.svc.history(self.key)
        new, self.rows_seen = list(rows[self.rows_seen:]), len(rows)
        return new

    def served(self) -> dict[tuple[str, str, str], Any]:
        """What the service serves to every probe."""
        return {(env, unit, str(attrs)): self.svc.evaluate(self.key, env, unit, attrs)
                for env, unit, attrs in self.probes}

    def start_release(self, actor: str) -> None:
        """Trigger a release of the next value, and its model beside it."""
        self.before = self.served()
        self.values_made += 1
        value = {"n": self.values_made}
        release = self.svc.start_release(self.key, value, actor, self.clock)
        assert release.id is not None
        self.model = ModelRelease.trigger(release.id, self.pipeline, actor, value, self.base,
                                          self.clock)
        (row,) = self.new_rows()
        assert (row.outcome, row.actor, row.from_state, row.to_state) == (
            Outcome.OK, actor, None, self.model.describe())

    def click(self, command: Command) -> None:
        """One attempt: carried out as the model predicts, or refused / denied changing nothing."""
        model = self.model
        refused, denied = model.objections(command)
        before, state = self.release(), model.describe()
        try:
            after = self.svc.act(command, self.clock)
        except DomainError as error:
            assert refused or denied, f"{command} was refused in {state}: {error.message}"
            assert self.release() == before, "a refused action changed the release"
            (row,) = self.new_rows()
            assert (row.actor, row.action, row.from_state, row.to_state) == (
                command.actor, command.action.value, state, state)
            assert row.outcome is error.outcome
            if not denied:
                assert row.outcome is Outcome.REFUSED, (refused, error.message)
            elif not refused:
                assert row.outcome is Outcome.DENIED, (denied, error.message)
            else:
                assert row.outcome in (Outcome.REFUSED, Outcome.DENIED)
            return
        assert not (refused or denied), f"{command} was carried out in {state}: {refused + denied}"
        model.act(command, self.clock)
        assert after == self.release() and after.revision == before.revision + 1
        (row,) = self.new_rows()
        assert (row.outcome, row.actor, row.action, row.from_state, row.to_state) == (
            Outcome.OK, command.actor, command.action.value, state, model.describe()
        ), "the action landed elsewhere than the model says"
        if command.action is Action.ABORT:
            assert row.reason == command.reason

    # --- rules -----------------------------------------------------------------------------------

    @rule(data=st.data(), which=st.sampled_from(PHASE_CHOICES), reason=st.sampled_from(REASONS),
          wait=WAIT)
    def someone_clicks_anything(self, data: st.DataObject, which: str, reason: str | None,
                                wait: int) -> None:
        """After a while, any action by anyone, for the current, no, a stale or a missing phase."""
        self.clock += timedelta(minutes=wait)
        action = data.draw(st.sampled_from(Action), label="action")
        actor = data.draw(st.sampled_from(USERS), label="actor")
        phase = self.model.phase
        issued = {"current": phase, "none": None, "older": phase - 1, "newer": phase + 1,
                  "far": 99}[which]
        self.click(Command(self.model.id, action, actor, phase=issued, reason=reason))

    @precondition(lambda self: self.model.active)
    @rule(data=st.data(), reason=st.sampled_from(REASONS), wait=WAIT)
    def someone_clicks_a_button_on_screen(self, data: st.DataObject, reason: str | None,
                                          wait: int) -> None:
        """After a while, an action the model's table accepts, usually by someone permitted."""
        self.clock += timedelta(minutes=wait)
        model = self.model
        buttons = [a for a in sorted(ACCEPTS[model.state])
                   for _ in range(1 if a in (Action.ABORT, Action.FULL_ROLLOUT) else 3)]
        action = data.draw(st.sampled_from(buttons), label="action")
        permitted = [u for u in USERS if may(u, model.principals(action))] or list(USERS)
        actor = data.draw(st.sampled_from(permitted) | st.sampled_from(USERS), label="actor")
        self.click(Command(model.id, action, actor, phase=model.phase, reason=reason))

    @rule(actor=st.sampled_from(USERS))
    def someone_starts_a_release(self, actor: str) -> None:
        """A new release once the last one ended; refused while one is active."""
        if not self.model.active:
            self.start_release(actor)
            return
        before = self.release()
        with pytest.raises(DomainError):
            self.svc.start_release(self.key, {"n": -1}, actor, self.clock)
        assert self.release() == before
        (row,) = self.new_rows()
        assert (row.outcome, row.actor) == (Outcome.REFUSED, actor)

    @rule(minutes=MINUTES, sweep=st.sampled_from((True, True, False)))
    def time_passes(self, minutes: int, sweep: bool) -> None:
        """The clock moves on; then the scheduler's sweep usually runs."""
        self.clock += timedelta(minutes=minutes)
        if not sweep:
            return
        model, before = self.model, self.release()
        due, state = model.timer_due(self.clock), model.describe()
        moved = [r.id for r in self.svc.advance_due(self.clock) if r.flag_key == self.key]
        assert moved == ([model.id] if due else []), f"sweep at {self.clock} in {state}"
        if not due:
            assert self.release() == before, "a timer fired early or a stopped one ran"
            assert self.new_rows() == []
            return
        model.end_bake(PhaseStatus.DONE, self.clock)
        (row,) = self.new_rows()
        assert (row.outcome, row.actor, row.from_state, row.to_state) == (
            Outcome.OK, SYSTEM_ACTOR, state, model.describe()), "the timer's end led elsewhere"

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def release_is_where_the_model_says_and_fits_the_table(self) -> None:
        r = self.release()
        self.check_against_the_model(r)
        self.check_against_the_table(r)
        self.check_approvals(r)

    def check_against_the_model(self, r: Release) -> None:
        """State, phase, phase statuses, timer, approvals and end exactly as the model has them."""
        m = self.model
        assert (r.state, r.phase) == (m.state, m.phase), "state"
        assert list(r.phase_statuses) == m.statuses, "phase statuses"
        assert (r.bake_ends_at, r.remaining) == (m.ends_at, m.remaining), "bake timer"
        assert [list(r.approvers(i)) for i in range(len(m.statuses))] == [
            m.approvals[i] for i in range(len(m.statuses))], "approvals"
        assert (r.ended_at, r.triggered_by) == (m.ended_at, m.triggered_by)

    def check_against_the_table(self, r: Release) -> None:
        """Phase statuses and timers that fit the state, whatever the model says."""
        statuses = set(r.phase_statuses)
        if r.state is ReleaseState.COMPLETED:
            assert statuses <= {PhaseStatus.DONE, PhaseStatus.SKIPPED, PhaseStatus.ROLLED_OUT}
        elif r.state is ReleaseState.ABORTED:
            reverted = [s is PhaseStatus.REVERTED for s in r.phase_statuses]
            assert statuses <= {PhaseStatus.REVERTED, PhaseStatus.CANCELLED}
            assert reverted == sorted(reverted, reverse=True), "reverted phases precede cancelled"
        else:
            assert set(r.phase_statuses[:r.phase]) <= {PhaseStatus.DONE, PhaseStatus.SKIPPED}
            assert set(r.phase_statuses[r.phase + 1:]) <= {PhaseStatus.PENDING}
            bake = r.current_phase.bake
            assert r.bake_ends_at is None or r.bake_ends_at - self.clock <= bake
            assert r.remaining is None or timedelta(0) <= r.remaining <= bake

    @staticmethod
    def check_approvals(r: Release) -> None:
        """Distinct approvers, never the trigger person unless allowed, no gate went unmet."""
        for index, (phase, status) in enumerate(zip(r.pipeline.phases, r.phase_statuses,
                                                    strict=True)):
            approvers = r.approvers(index)
            assert len(set(approvers)) == len(approvers)
            assert r.pipeline.allow_self_approval or r.triggered_by not in approvers
            went_live = status in LIVE or status is PhaseStatus.REVERTED
            if phase.approval and went_live:
                assert len(approvers) >= phase.approval.required, (index, status)

    @invariant()
    def ended_releases_never_change(self) -> None:
        for release_id, ended in self.ended.items():
            assert self.svc.release(release_id) == ended
        if not self.model.active:
            self.ended.setdefault(self.model.id, self.release())

    @invariant()
    def units_are_served_what_the_model_says(self) -> None:
        served = self.served()
        expected = {(env, unit, str(attrs)): self.model.expected(self.key, env, unit, attrs)
                    for env, unit, attrs in self.probes}
        wrong = {probe: (value, expected[probe]) for probe, value in served.items()
                 if value != expected[probe]}
        assert not wrong, f"served (actual, expected) in {self.model.describe()}: {wrong}"
        if self.model.state is ReleaseState.ABORTED:
            assert served == self.before, "abort brings back exactly the pre-release values"
        elif self.model.state is ReleaseState.COMPLETED:
            for (env, unit, attrs), value in served.items():
                assert value == (self.model.new_value if env in self.pipeline.environments
                                 else self.before[env, unit, attrs])
