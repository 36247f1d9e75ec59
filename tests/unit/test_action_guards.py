"""The guards in front of every action: reasons, stale clicks, approvals and who may act."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core.errors import MembershipUnavailable, RuleBroken
from release_bot.core.machine import decide
from release_bot.core.models import Action, ApprovalGate, Command, Outcome, Phase, ReleaseState
from release_bot.core.rules import (
    AbortHasReason,
    ActionIsForCurrentPhase,
    ActorIsPermitted,
    ApprovalIsDistinct,
    NoSelfApproval,
)
from tests.support.fakes import (
    ALICE,
    BOB,
    CAROL,
    NOW,
    TRIGGERER,
    Everyone,
    FakeMembership,
    act,
    approvers_membership,
    expire,
    pipeline_of,
    production,
    staging,
    started,
    three_phase,
)

DAVE, EVE = "U0DAVE", "U0EVE"


def refusal(release, action, actor=ALICE, *, membership=None, **kw):
    command = Command(release.id, action, actor, **kw)
    with pytest.raises(RuleBroken) as caught:
        decide(release, command, NOW, membership or Everyone())
    return caught.value


def awaiting_production(pipeline=None):
    """Canary approved and skipped: Production (2 approvals) is waiting."""
    return act(act(expire(started(pipeline)), Action.APPROVE, ALICE), Action.SKIP)


# --- abort reason ----------------------------------------------------------------------------

@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
@pytest.mark.parametrize("make", [started, lambda: expire(started())], ids=["baking", "awaiting"])
def test_abort_needs_a_non_blank_reason(make, reason):
    error = refusal(make(), Action.ABORT, reason=reason)
    assert error.code == AbortHasReason.__name__
    assert "Abort needs a reason" in error.message


def test_abort_with_a_reason_is_kept_on_the_event():
    command = Command(7, Action.ABORT, ALICE, reason="checkout errors")
    transition = decide(started(), command, NOW, Everyone())
    assert transition.release.state is ReleaseState.ABORTED
    assert transition.events[0].reason == "checkout errors"


# --- stale actions ---------------------------------------------------------------------------

def test_an_action_for_an_older_phase_is_refused_as_out_of_date():
    release = expire(started())                                      # awaiting_approval(1)
    error = refusal(release, Action.SKIP, phase=0)
    assert error.code == ActionIsForCurrentPhase.__name__
    assert error.outcome is Outcome.REFUSED
    assert "out of date" in error.message
    assert "Staging" in error.message and "Production canary" in error.message


def test_an_old_approve_click_cannot_approve_the_next_phase():
    release = awaiting_production()
    error = refusal(release, Action.APPROVE, BOB, phase=1)
    assert error.code == ActionIsForCurrentPhase.__name__
    assert "out of date" in error.message
    assert release.approvers(2) == ()


def test_an_action_for_a_phase_that_does_not_exist_is_refused():
    error = refusal(started(), Action.PAUSE, phase=5)
    assert error.code == ActionIsForCurrentPhase.__name__
    assert "has no phase 5" in error.message


def test_an_action_without_a_phase_applies_to_the_current_one():
    after = decide(started(), Command(7, Action.PAUSE, ALICE), NOW, Everyone()).release
    assert after.describe_state() == "paused(0)"


# --- approvals -------------------------------------------------------------------------------

def test_a_second_approval_by_another_person_counts_and_puts_the_phase_live():
    pipeline = pipeline_of(staging(), production(required=2, bake=timedelta(hours=1)),
                           staging(bake=timedelta(0)))
    release = expire(started(pipeline))                              # awaiting_approval(1)
    members = approvers_membership()

    first = decide(release, Command(7, Action.APPROVE, BOB, phase=1), NOW, members)
    assert first.release.describe_state() == "awaiting_approval(1)"
    assert first.release.approvers(1) == (BOB,)
    assert first.release.live_phases() == (0,)
    assert "(1 of 2)" in first.events[0].message

    later = NOW + timedelta(minutes=5)
    second = decide(first.release, Command(7, Action.APPROVE, CAROL, phase=1), later, members)
    assert second.release.describe_state() == "baking(1)"
    assert second.release.approvers(1) == (BOB, CAROL)
    assert second.release.live_phases() == (0, 1)
    assert second.release.bake_ends_at == later + timedelta(hours=1)
    assert "(2 of 2)" in second.events[0].message


def test_two_approvals_of_the_last_unbaked_phase_complete_the_release():
    release = awaiting_production()
    release = act(release, Action.APPROVE, BOB, membership=approvers_membership())
    release = act(release, Action.APPROVE, CAROL, membership=approvers_membership())
    assert release.state is ReleaseState.COMPLETED


def test_the_same_person_cannot_approve_a_phase_twice():
    release = act(awaiting_production(), Action.APPROVE, BOB)
    error = refusal(release, Action.APPROVE, BOB, phase=2)
    assert error.code == ApprovalIsDistinct.__name__
    assert "already approved phase Production (1 of 2 approvals)" in error.message


def test_an_approver_of_one_phase_may_approve_the_next():
    release = awaiting_production()
    assert release.approvers(1) == (ALICE,)
    assert act(release, Action.APPROVE, ALICE).approvers(2) == (ALICE,)


def test_the_trigger_person_may_not_approve_their_own_release():
    release = expire(started(actor=TRIGGERER))
    members = approvers_membership(TRIGGERER, ALICE)
    error = refusal(release, Action.APPROVE, TRIGGERER, membership=members)
    assert error.code == NoSelfApproval.__name__
    assert error.outcome is Outcome.DENIED
    assert "does not allow approving your own release" in error.message


def test_self_approval_counts_when_the_pipeline_allows_it():
    release = expire(started(three_phase(allow_self_approval=True), actor=TRIGGERER))
    after = act(release, Action.APPROVE, TRIGGERER, membership=approvers_membership(TRIGGERER))
    assert after.describe_state() == "baking(1)"
    assert after.approvers(1) == (TRIGGERER,)


# --- who may act -----------------------------------------------------------------------------

def test_approve_is_limited_to_the_phase_approval_groups():
    error = refusal(expire(started()), Action.APPROVE, EVE, membership=approvers_membership())
    assert error.code == ActorIsPermitted.__name__
    assert error.outcome is Outcome.DENIED
    assert error.message == "You can't Approve release #7: only @approvers may."


def test_a_denial_names_every_group_and_person_that_may_act():
    pipeline = three_phase(permissions={Action.PAUSE: ("@engineering", "S0OPS", DAVE)})
    members = FakeMembership({"@engineering": {ALICE}, "S0OPS": {BOB}})
    error = refusal(started(pipeline), Action.PAUSE, EVE, membership=members)
    assert error.code == ActorIsPermitted.__name__
    assert error.message.startswith("You can't Pause release #7: only @engineering, ")
    assert "S0OPS" in error.message and error.message.endswith(" or U0DAVE may.")


@pytest.mark.parametrize("actor", [ALICE, BOB, DAVE])
def test_members_of_any_listed_group_and_listed_users_may_act(actor):
    pipeline = three_phase(permissions={Action.PAUSE: ("@engineering", "S0OPS", DAVE)})
    members = FakeMembership({"@engineering": {ALICE}, "S0OPS": {BOB}})
    assert act(started(pipeline), Action.PAUSE, actor, membership=members).describe_state() == (
        "paused(0)")


def test_when_membership_cannot_be_looked_up_the_attempt_is_denied():
    pipeline = three_phase(permissions={Action.ABORT: ("@engineering",)})
    command = Command(7, Action.ABORT, ALICE, reason="errors")
    with pytest.raises(MembershipUnavailable) as caught:
        decide(started(pipeline), command, NOW, FakeMembership(down=True))
    assert caught.value.outcome is Outcome.DENIED


def test_an_approval_is_denied_when_the_approver_group_cannot_be_looked_up():
    with pytest.raises(MembershipUnavailable):
        decide(expire(started()), Command(7, Action.APPROVE, ALICE), NOW,
               FakeMembership({"@approvers": {ALICE}}, unavailable={"@approvers"}))


def test_a_user_listed_by_id_needs_no_membership_lookup():
    pipeline = three_phase(permissions={Action.ABORT: ("@engineering", DAVE)})
    members = FakeMembership(down=True)
    after = act(started(pipeline), Action.ABORT, DAVE, reason="errors", membership=members)
    assert after.state is ReleaseState.ABORTED
    assert members.asked == []


@pytest.mark.parametrize(("action", "result"), [(Action.SKIP, "awaiting_approval(1)"),
                                                  (Action.FULL_ROLLOUT, "completed")])
def test_actions_not_listed_in_permissions_are_open_to_anyone(action, result):
    pipeline = three_phase(permissions={Action.PAUSE: ("@engineering",)})
    members = FakeMembership(down=True)
    after = act(started(pipeline), action, EVE, membership=members)
    assert after.describe_state() == result
    assert members.asked == []


def test_an_approval_gate_without_groups_falls_back_to_the_approve_permission():
    gate = Phase(name="Prod", environments=("production",), approval=ApprovalGate(required=1))
    pipeline = pipeline_of(gate, permissions={Action.APPROVE: (DAVE,)})
    release = started(pipeline)
    assert refusal(release, Action.APPROVE, EVE).code == ActorIsPermitted.__name__
    assert act(release, Action.APPROVE, DAVE).state is ReleaseState.COMPLETED


def test_an_approval_gate_without_groups_or_permission_is_open_to_anyone_but_the_trigger():
    gate = Phase(name="Prod", environments=("production",), approval=ApprovalGate(required=1))
    release = started(pipeline_of(gate))
    assert act(release, Action.APPROVE, EVE, membership=FakeMembership(down=True)).state is (
        ReleaseState.COMPLETED)
    assert refusal(release, Action.APPROVE, TRIGGERER).code == NoSelfApproval.__name__

