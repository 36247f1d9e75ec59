"""Random sessions of people and timers steering releases through ReleaseService.

Hypothesis drives start / approve / pause / unpause / skip / abort / full_rollout by a small pool
of users (the trigger person among them), with stale and missing phases, blank and real reasons,
and a fake clock that jumps forward before the scheduler's sweep. After every step the release
must be in a state of the design's table, serve what the design says, never change once ended,
and be reproducible from its own history.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from release_bot.core import machine
from release_bot.core.errors import MembershipUnavailable, RuleBroken
from release_bot.core.evaluation import bucket, scope_matches, served_version
from release_bot.core.machine import allowed_actions
from release_bot.core.models import (
    Action,
    ApprovalGate,
    Command,
    Flag,
    FlagKind,
    Outcome,
    Phase,
    PhaseStatus,
    Pipeline,
    ReleaseState,
)
from release_bot.core.service import ReleaseService
from tests.support.fakes import (
    ALICE,
    BOB,
    CAROL,
    NOW,
    TRIGGERER,
    Everyone,
    FakeMembership,
    FakeStore,
    three_phase,
)

DAVE, EVE = "U0DAVE", "U0EVE"
USERS = (TRIGGERER, ALICE, BOB, CAROL, DAVE, EVE)
MEMBERS = {"@approvers": {TRIGGERER, ALICE, BOB, CAROL}, "@engineering": {TRIGGERER, ALICE, BOB}}
H = timedelta(hours=1)

PIPELINES = (
    three_phase(permissions={Action.PAUSE: ("@engineering",),
                             Action.ABORT: ("@engineering", DAVE)}),
    Pipeline(
        name="regional", allow_self_approval=True,
        permissions={Action.FULL_ROLLOUT: (CAROL,), Action.SKIP: ("S0FLAKY", DAVE)},
        phases=(
            Phase("Canary", ("production",), percentage=10,
                  approval=ApprovalGate(("@approvers",), 1), bake=H),
            Phase("Half", ("production",), percentage=50, bake=timedelta(minutes=20)),
            Phase("EU", ("production",), match={"region": ("eu",)},
                  approval=ApprovalGate(("@approvers",), 2), bake=timedelta(minutes=30)),
            Phase("Everywhere", ("production", "staging")),
        ),
    ),
    Pipeline(name="quick", phases=(Phase("Staging", ("staging",)),
                                   Phase("Production", ("production",), bake=2 * H))),
)
ENVIRONMENTS = ("staging", "production", "dev")           # dev is in no pipeline
UNITS = tuple((f"unit-{i}", {"region": "eu"} if i % 3 == 0 else {}) for i in range(30))
NESTING_UNITS = tuple(f"user-{i}" for i in range(200))
TERMINAL = (ReleaseState.COMPLETED, ReleaseState.ABORTED)
# weighted by repetition: most clicks are for the phase on screen
PHASE_CHOICES = ("current",) * 6 + ("none", "none", "older", "newer")
ACTIONS = (Action.APPROVE,) * 5 + (Action.PAUSE, Action.UNPAUSE, Action.SKIP) * 2 + (
    Action.ABORT, Action.FULL_ROLLOUT)
REASONS = (None, "", "  ") + ("error rate up",) * 3


class ReleaseSessions(RuleBasedStateMachine):

    @initialize(pipeline=st.sampled_from(PIPELINES), triggerer=st.sampled_from(USERS))
    def create_and_start(self, pipeline, triggerer):
        self.pipeline = pipeline
        self.store = FakeStore()
        self.clock = NOW
        self.svc = ReleaseService(self.store.unit_of_work, {pipeline.name: pipeline},
                                  FakeMembership(MEMBERS, unavailable={"S0FLAKY"}))
        self.svc.create_flag("f", FlagKind.CONFIG, pipeline.name, {"n": 0}, ALICE, NOW)
        self.values_made = 0
        self.ended = {}
        self.start_release(triggerer)

    # --- helpers ---------------------------------------------------------------------------

    def current(self):
        return self.store.releases[self.release_id]

    def served(self):
        flag = self.store.flags["f"]
        release = self.store.releases.get(getattr(self, "release_id", None))
        active = release if release is not None and release.active else None
        values = {n: v.value for n, v in self.store.versions["f"].items()}
        return {(env, unit): values[served_version(flag, active, env, unit, attrs)]
                for env in ENVIRONMENTS for unit, attrs in UNITS}

    def start_release(self, actor):
        self.before = self.served()
        self.values_made += 1
        self.new_value = {"n": self.values_made}
        release = self.svc.start_release("f", self.new_value, actor, self.clock)
        self.release_id = release.id
        self.served_new = set()

    # --- rules -----------------------------------------------------------------------------

    @precondition(lambda self: not self.current().active)
    @rule(actor=st.sampled_from(USERS))
    def start_the_next_release(self, actor):
        self.start_release(actor)

    @precondition(lambda self: self.current().active)
    @rule(data=st.data(), actor=st.sampled_from(USERS),
          which_phase=st.sampled_from(PHASE_CHOICES), reason=st.sampled_from(REASONS))
    def someone_clicks(self, data, actor, which_phase, reason):
        """Usually a button of the current message; sometimes any action at all."""
        before = self.current()
        on_screen = [a for a in allowed_actions(before.state)
                     for _ in range(1 if a in (Action.ABORT, Action.FULL_ROLLOUT) else 3)]
        action = data.draw(st.one_of(st.sampled_from(on_screen), st.sampled_from(ACTIONS)),
                           label="action")
        phase = {"current": before.phase, "none": None, "older": before.phase - 1,
                 "newer": before.phase + 1}[which_phase]
        events = len(self.store.events)
        try:
            after = self.svc.act(Command(before.id, action, actor, phase=phase, reason=reason),
                                 self.clock)
        except (RuleBroken, MembershipUnavailable) as error:
            assert self.current() == before, "a refused action changes nothing"
            (row,) = self.store.events[events:]
            assert (row.outcome, row.rule, row.actor) == (error.outcome, error.code, actor)
            if which_phase in ("older", "newer"):
                assert error.code in ("ReleaseIsActive", "ActionIsForCurrentPhase")
            return
        assert which_phase in ("current", "none"), "a stale click was carried out"
        assert after == self.current() and after.revision == before.revision + 1
        (row,) = self.store.events[events:]
        assert row.outcome is Outcome.OK and row.to_state == after.describe_state()
        if action is Action.APPROVE:
            assert actor not in before.approvers(before.phase)
            assert actor != before.triggered_by or before.pipeline.allow_self_approval

    @precondition(lambda self: not self.current().active)
    @rule(action=st.sampled_from(Action), actor=st.sampled_from(USERS))
    def someone_clicks_on_an_ended_release(self, action, actor):
        before = self.current()
        try:
            self.svc.act(Command(before.id, action, actor, reason="why"), self.clock)
        except RuleBroken as error:
            assert error.code == "ReleaseIsActive"
        else:
            raise AssertionError(f"{action} changed an ended release")
        assert self.current() == before

    @rule(minutes=st.one_of(st.integers(0, 45), st.sampled_from([60, 90, 120, 180, 24 * 60])))
    def time_passes_and_the_scheduler_sweeps(self, minutes):
        self.clock += timedelta(minutes=minutes)
        before = self.current()
        due = before.state is ReleaseState.BAKING and before.bake_ends_at <= self.clock
        moved = self.svc.advance_due(self.clock)
        assert [r.id for r in moved] == ([before.id] if due else [])
        if not due:
            assert self.current() == before, "a timer fired early or a stopped one ran"
        with self.store.unit_of_work() as uow:
            assert uow.releases.due(self.clock, 100) == [], "a due timer was left behind"

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def state_is_one_of_the_table(self):
        r = self.current()
        n = len(r.pipeline.phases)
        assert 0 <= r.phase < n and len(r.phase_statuses) == n
        statuses, here = r.phase_statuses, r.phase_statuses[r.phase]
        if r.state in TERMINAL:
            assert r.bake_ends_at is None and r.remaining is None and r.ended_at is not None
            if r.state is ReleaseState.COMPLETED:
                assert set(statuses) <= {PhaseStatus.DONE, PhaseStatus.SKIPPED,
                                         PhaseStatus.ROLLED_OUT}
            else:
                kinds = [s is PhaseStatus.REVERTED for s in statuses]
                assert set(statuses) <= {PhaseStatus.REVERTED, PhaseStatus.CANCELLED}
                assert kinds == sorted(kinds, reverse=True), "reverted phases precede cancelled"
            return
        assert r.ended_at is None
        assert set(statuses[:r.phase]) <= {PhaseStatus.DONE, PhaseStatus.SKIPPED}
        assert set(statuses[r.phase + 1:]) <= {PhaseStatus.PENDING}
        bake = r.current_phase.bake
        if r.state is ReleaseState.BAKING:
            assert here is PhaseStatus.BAKING and r.remaining is None
            assert r.bake_ends_at is not None and r.bake_ends_at - self.clock <= bake
        elif r.state is ReleaseState.PAUSED:
            assert here is PhaseStatus.PAUSED and r.bake_ends_at is None
            assert r.remaining is not None and timedelta(0) <= r.remaining <= bake
        else:
            assert r.state is ReleaseState.AWAITING_APPROVAL
            assert here is PhaseStatus.AWAITING_APPROVAL
            assert r.bake_ends_at is None and r.remaining is None
            assert len(r.approvers(r.phase)) < r.current_phase.approval.required

    @invariant()
    def approvals_are_distinct_and_never_the_trigger_persons_unless_allowed(self):
        r = self.current()
        for phase in range(len(r.pipeline.phases)):
            approvers = r.approvers(phase)
            assert len(set(approvers)) == len(approvers)
            if not r.pipeline.allow_self_approval:
                assert r.triggered_by not in approvers

    @invariant()
    def no_gated_phase_went_live_without_its_approvals(self):
        r = self.current()
        for index, (phase, status) in enumerate(zip(r.pipeline.phases, r.phase_statuses,
                                                    strict=True)):
            went_live = status.live or status is PhaseStatus.REVERTED
            if phase.approval and went_live and status is not PhaseStatus.ROLLED_OUT:
                assert len(r.approvers(index)) >= phase.approval.required, (index, status)

    @invariant()
    def a_larger_percentage_later_keeps_the_units_of_a_smaller_one(self):
        r = self.current()
        live = [r.pipeline.phases[i] for i in r.live_phases() if not r.pipeline.phases[i].match]
        for i, small in enumerate(live):
            for large in live[i + 1:]:
                if small.percentage is None or (large.percentage or 100) < small.percentage:
                    continue
                for env in set(small.environments) & set(large.environments):
                    for unit in NESTING_UNITS:
                        b = bucket("f", unit)
                        if scope_matches(small, env, b, {}):
                            assert scope_matches(large, env, b, {}), (unit, env)

    @invariant()
    def ended_releases_never_change(self):
        for release_id, ended in self.ended.items():
            assert self.store.releases[release_id] == ended
        r = self.current()
        if not r.active:
            self.ended.setdefault(r.id, r)

    @invariant()
    def units_are_served_what_the_state_says(self):
        r = self.current()
        served = self.served()
        if r.state is ReleaseState.ABORTED:
            assert served == self.before, "abort brings back exactly the pre-release values"
            return
        if r.state is ReleaseState.COMPLETED:
            for (env, unit), value in served.items():
                expected = self.new_value if env in r.pipeline.environments else self.before[
                    env, unit]
                assert value == expected, (env, unit)
            return
        for key, value in served.items():
            assert value in (self.before[key], self.new_value)
            if key[0] not in r.pipeline.environments:
                assert value == self.before[key]
        newly = {key for key, value in served.items() if value == self.new_value}
        assert self.served_new <= newly, "a unit lost the new version while the release ran"
        self.served_new = newly

    @invariant()
    def history_replays_to_the_current_state(self):
        r = self.current()
        rows = [e for e in self.store.events
                if e.release_id == r.id and e.outcome is Outcome.OK]
        assert rows[0].action == "trigger" and rows[0].from_state is None
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert later.from_state == earlier.to_state
        assert rows[-1].to_state == r.describe_state()

        flag = Flag("f", FlagKind.CONFIG, r.pipeline.name, "f", default_version=r.from_version)
        replayed = machine.start(flag, r.pipeline, r.to_version, rows[0].actor,
                                     rows[0].at).release
        replayed = replace(replayed, id=r.id)
        for row in rows[1:]:
            if row.action == machine.TIMER_ACTION:
                step = machine.timer_end(replayed, row.at)
                assert step is not None
            else:
                command = Command(r.id, Action(row.action), row.actor, phase=row.phase,
                                  reason=row.reason)
                step = machine.decide(replayed, command, row.at, Everyone())
            assert step.events[0].to_state == row.to_state
            replayed = step.release
        assert replace(replayed, revision=0) == replace(r, revision=0)


ReleaseSessions.TestCase.settings = settings(
    max_examples=200, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReleaseSessions = ReleaseSessions.TestCase
