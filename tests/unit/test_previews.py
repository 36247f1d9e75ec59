"""Previews say what an action would do by running the state machine's own moves on a copy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core.machine import after_bake, allowed_actions, approvals, bake_left, preview
from release_bot.core.models import Action, ApprovalGate, Phase, ReleaseState
from tests.support.fakes import (
    ALICE,
    BOB,
    NOW,
    act,
    canary,
    expire,
    in_state,
    pipeline_of,
    production,
    staging,
    started,
)

LATER = NOW + timedelta(hours=2)
STATES = ("awaiting_approval", "baking", "paused")


@pytest.mark.parametrize("state", STATES)
def test_a_preview_lands_where_the_decision_lands(state: str) -> None:
    release = in_state(state)
    for action in allowed_actions(release.state):
        seen = preview(release, action, BOB, LATER)
        done = act(release, action, BOB, at=LATER, reason="why")
        assert seen.after == done, action


def test_approving_the_last_missing_approval_puts_the_phase_live_for_its_bake() -> None:
    waiting = expire(started())
    seen = preview(waiting, Action.APPROVE, ALICE, NOW)
    assert (seen.approvals.got, seen.approvals.required, seen.approvals.remaining) == (1, 1, 0)
    assert seen.effect.goes_live == (1,) and seen.bakes_for == timedelta(hours=2)


def test_an_approval_short_of_the_required_count_puts_nothing_live() -> None:
    waiting = expire(started(pipeline_of(staging(), canary(required=2))))
    seen = preview(waiting, Action.APPROVE, ALICE, NOW)
    assert seen.effect.goes_live == () and seen.approvals.remaining == 1
    assert seen.after.state is ReleaseState.AWAITING_APPROVAL


def test_skip_into_a_gate_waits_and_skip_of_the_last_phase_completes() -> None:
    assert preview(started(), Action.SKIP, BOB, NOW).effect.waits_for == 1
    two = pipeline_of(staging(), Phase("All", ("production",), bake=timedelta(hours=1)))
    last = expire(started(two))
    assert preview(last, Action.SKIP, BOB, NOW).effect.completes


def test_zero_bake_phases_chain_in_the_preview_as_in_the_move() -> None:
    pipeline = pipeline_of(staging(), Phase("Dev", ("dev",)), production(required=1))
    seen = preview(started(pipeline), Action.SKIP, BOB, NOW)
    assert seen.effect.goes_live == (1,) and seen.effect.waits_for == 2


def test_full_rollout_names_the_gates_it_does_not_wait_for() -> None:
    seen = preview(started(), Action.FULL_ROLLOUT, BOB, NOW)
    assert seen.effect.goes_live == (1, 2) and seen.bypassed_gates == (1, 2)
    assert seen.effect.completes


def test_abort_takes_down_exactly_the_live_phases() -> None:
    seen = preview(in_state("baking"), Action.ABORT, BOB, LATER)
    assert seen.effect.taken_down == (0, 1) and not seen.effect.completes


def test_pause_and_unpause_say_what_the_end_of_the_bake_will_do() -> None:
    paused = in_state("paused")
    seen = preview(paused, Action.UNPAUSE, BOB, LATER)
    assert seen.bake_left == timedelta(minutes=90) == bake_left(paused, LATER)
    assert seen.then == after_bake(paused) and seen.then is not None
    assert seen.then.waits_for == 2
    assert seen.after.bake_ends_at == LATER + timedelta(minutes=90)


def test_approvals_count_distinct_people_against_the_gate() -> None:
    pipeline = pipeline_of(Phase("Gate", ("production",),
                                 approval=ApprovalGate(("@a",), required=3)))
    waiting = act(started(pipeline), Action.APPROVE, ALICE)
    count = approvals(waiting, 0)
    assert (count.approvers, count.got, count.required, count.remaining) == ((ALICE,), 1, 3, 2)
