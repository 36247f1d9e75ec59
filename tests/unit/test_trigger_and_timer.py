"""Trigger, bake timers, pause/unpause arithmetic, skip and approval gates, zero-bake chains."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core import machine
from release_bot.core.models import Action, NoticeKind, PhaseStatus, ReleaseState
from tests.support.fakes import (
    ALICE,
    BOB,
    NOW,
    TRIGGERER,
    act,
    canary,
    expire,
    gate_flag,
    pipeline_of,
    production,
    staging,
    started,
    three_phase,
)

ZERO = timedelta(0)


def test_trigger_of_an_ungated_first_phase_puts_it_live_and_starts_its_bake():
    release = started(three_phase())
    assert release.describe_state() == "baking(0)"
    assert release.phase_statuses == (PhaseStatus.BAKING, PhaseStatus.PENDING, PhaseStatus.PENDING)
    assert release.bake_ends_at == NOW + timedelta(minutes=30)
    assert release.remaining is None
    assert release.live_phases() == (0,)
    assert release.from_version == 1 and release.to_version == 2
    assert release.triggered_by == TRIGGERER and release.created_at == NOW


def test_trigger_of_a_gated_first_phase_waits_for_approval_with_nothing_live():
    pipeline = pipeline_of(canary(), production())
    transition = machine.start(gate_flag(pipeline="custom"), pipeline, 2, TRIGGERER, NOW)
    release = transition.release
    assert release.describe_state() == "awaiting_approval(0)"
    assert release.phase_statuses == (PhaseStatus.AWAITING_APPROVAL, PhaseStatus.PENDING)
    assert release.bake_ends_at is None and release.remaining is None
    assert release.live_phases() == ()
    needed = [n for n in transition.notifications if n.kind is NoticeKind.APPROVAL_NEEDED]
    assert [n.data for n in needed] == [
        {"phase": 0, "groups": ["@approvers"], "required": 1, "approved": []}
    ]


def test_timer_end_before_the_bake_is_over_does_nothing():
    release = started()
    assert machine.timer_end(release, NOW + timedelta(minutes=29, seconds=59)) is None


@pytest.mark.parametrize("state", ["awaiting_approval", "paused"])
def test_timer_end_ignores_releases_that_are_not_baking(state):
    release = expire(started())
    if state == "paused":
        release = act(act(release, Action.APPROVE), Action.PAUSE)
    assert machine.timer_end(release, NOW + timedelta(days=30)) is None


def test_timer_end_into_an_ungated_phase_puts_it_live():
    release = started(pipeline_of(staging(), staging(bake=timedelta(hours=1))))
    due = NOW + timedelta(minutes=45)
    after = machine.timer_end(release, due).release
    assert after.describe_state() == "baking(1)"
    assert after.phase_statuses == (PhaseStatus.DONE, PhaseStatus.BAKING)
    assert after.bake_ends_at == due + timedelta(hours=1)


def test_timer_end_into_a_gated_phase_waits_and_tells_the_approvers():
    transition = machine.timer_end(started(), NOW + timedelta(minutes=30))
    after = transition.release
    assert after.describe_state() == "awaiting_approval(1)"
    assert after.phase_statuses == (PhaseStatus.DONE, PhaseStatus.AWAITING_APPROVAL,
                                    PhaseStatus.PENDING)
    assert after.bake_ends_at is None and after.remaining is None
    assert after.live_phases() == (0,)
    kinds = [n.kind for n in transition.notifications]
    assert NoticeKind.APPROVAL_NEEDED in kinds
    assert transition.events[0].actor == "release-bot"
    assert transition.events[0].action == "timer"


def test_timer_end_of_the_last_phase_completes():
    release = started(pipeline_of(staging(), staging(bake=timedelta(hours=1))))
    release = expire(release)
    due = release.bake_ends_at
    transition = machine.timer_end(release, due)
    assert transition.release.state is ReleaseState.COMPLETED
    assert transition.release.phase_statuses == (PhaseStatus.DONE, PhaseStatus.DONE)
    assert transition.release.ended_at == due
    assert transition.release.live_phases() == ()
    assert NoticeKind.COMPLETED in [n.kind for n in transition.notifications]


def test_pause_keeps_the_remaining_time_and_unpause_resumes_with_exactly_that():
    release = started()                                     # staging bakes until +30m
    paused = act(release, Action.PAUSE, at=NOW + timedelta(minutes=12))
    assert paused.remaining == timedelta(minutes=18)
    assert paused.bake_ends_at is None
    assert paused.live_phases() == (0,), "pause never takes anything down"

    a_day_later = NOW + timedelta(days=1)
    assert machine.timer_end(paused, a_day_later) is None, "a paused timer does not run"
    resumed = act(paused, Action.UNPAUSE, at=a_day_later)
    assert resumed.describe_state() == "baking(0)"
    assert resumed.bake_ends_at == a_day_later + timedelta(minutes=18)
    assert resumed.remaining is None
    assert machine.timer_end(resumed, a_day_later + timedelta(minutes=17)) is None
    assert machine.timer_end(resumed, a_day_later + timedelta(minutes=18)) is not None


def test_pause_after_the_timer_ran_out_keeps_zero_and_unpause_makes_it_due_at_once():
    release = started()
    paused = act(release, Action.PAUSE, at=NOW + timedelta(hours=1))
    assert paused.remaining == ZERO
    later = NOW + timedelta(hours=5)
    resumed = act(paused, Action.UNPAUSE, at=later)
    assert resumed.bake_ends_at == later
    assert machine.timer_end(resumed, later) is not None


@pytest.mark.parametrize("pause_first", [False, True])
def test_skip_never_bypasses_the_next_phase_approval_gate(pause_first):
    release = started()
    if pause_first:
        release = act(release, Action.PAUSE, at=NOW + timedelta(minutes=5))
    after = act(release, Action.SKIP, at=NOW + timedelta(minutes=10))
    assert after.describe_state() == "awaiting_approval(1)"
    assert after.phase_statuses == (PhaseStatus.SKIPPED, PhaseStatus.AWAITING_APPROVAL,
                                    PhaseStatus.PENDING)
    assert after.live_phases() == (0,)
    assert after.bake_ends_at is None and after.remaining is None


def test_skip_of_the_last_phase_completes():
    release = started(pipeline_of(staging()))
    after = act(release, Action.SKIP, at=NOW + timedelta(minutes=1))
    assert after.state is ReleaseState.COMPLETED
    assert after.phase_statuses == (PhaseStatus.SKIPPED,)


def test_zero_bake_phases_chain_until_a_gate():
    pipeline = pipeline_of(staging(bake=ZERO), staging(bake=ZERO), canary(), staging(bake=ZERO))
    release = started(pipeline)
    assert release.describe_state() == "awaiting_approval(2)"
    assert release.phase_statuses[:3] == (PhaseStatus.DONE, PhaseStatus.DONE,
                                          PhaseStatus.AWAITING_APPROVAL)


def test_zero_bake_phases_chain_to_completion():
    pipeline = pipeline_of(staging(bake=ZERO), production(required=1))
    release = act(started(pipeline), Action.APPROVE, ALICE, at=NOW + timedelta(minutes=3))
    assert release.state is ReleaseState.COMPLETED
    assert release.phase_statuses == (PhaseStatus.DONE, PhaseStatus.DONE)
    assert release.ended_at == NOW + timedelta(minutes=3)


def test_an_ungated_pipeline_of_zero_bakes_completes_at_trigger():
    transition = machine.start(gate_flag(pipeline="custom"),
                                   pipeline_of(staging(bake=ZERO)), 2, TRIGGERER, NOW)
    assert transition.release.state is ReleaseState.COMPLETED
    assert [n.kind for n in transition.notifications] == [NoticeKind.RELEASE_STARTED,
                                                          NoticeKind.COMPLETED,
                                                          NoticeKind.STARTER_TOLD]


def _awaiting_2():
    canary_live = act(expire(started()), Action.APPROVE, ALICE)
    return act(canary_live, Action.SKIP)


NON_TERMINAL = {
    "awaiting_approval(0)": lambda: started(pipeline_of(canary(), production())),
    "baking(0)": started,
    "paused(0)": lambda: act(started(), Action.PAUSE),
    "awaiting_approval(1)": lambda: expire(started()),
    "baking(1)": lambda: act(expire(started()), Action.APPROVE, ALICE),
    "paused(1)": lambda: act(act(expire(started()), Action.APPROVE, ALICE), Action.PAUSE),
    "awaiting_approval(2)": _awaiting_2,
    "awaiting_approval(2) with 1 of 2": lambda: act(_awaiting_2(), Action.APPROVE, BOB),
}


@pytest.mark.parametrize("name", sorted(NON_TERMINAL))
def test_full_rollout_from_any_non_terminal_state_completes(name):
    release = NON_TERMINAL[name]()
    assert name.startswith(release.describe_state())
    after = act(release, Action.FULL_ROLLOUT, at=NOW + timedelta(hours=9))
    assert after.state is ReleaseState.COMPLETED
    assert after.phase_statuses[release.phase:] == (
        (PhaseStatus.ROLLED_OUT if release.state is ReleaseState.AWAITING_APPROVAL
         else PhaseStatus.SKIPPED),
        *[PhaseStatus.ROLLED_OUT] * (len(release.phase_statuses) - release.phase - 1),
    )
    assert after.phase_statuses[:release.phase] == release.phase_statuses[:release.phase]
    assert after.ended_at == NOW + timedelta(hours=9)
    assert after.bake_ends_at is None and after.remaining is None
