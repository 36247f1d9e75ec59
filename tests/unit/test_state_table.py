"""Every (state, action) pair of the design's state table, on the three-phase pipeline at phase 1.

The release under test waits at, bakes in or is paused in Production canary (phase 1): Staging
(30m) is done, Production (2 approvals, no bake) is still ahead. Actions are taken two hours after
the trigger; the canary went live one hour after the trigger with a 2h bake (so 1h is left), and
the paused release was paused with 1h30m left.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core.errors import RuleBroken
from release_bot.core.machine import decide
from release_bot.core.models import Action, Command, PhaseStatus, ReleaseState
from release_bot.core.rules import ActionFitsState, ReleaseIsActive
from tests.support.fakes import ALICE, NOW, Everyone, in_state

T = NOW + timedelta(hours=2)
D, B, P = PhaseStatus.DONE, PhaseStatus.BAKING, PhaseStatus.PAUSED
PEND, WAIT = PhaseStatus.PENDING, PhaseStatus.AWAITING_APPROVAL
SKIP, OUT = PhaseStatus.SKIPPED, PhaseStatus.ROLLED_OUT
REV, CAN = PhaseStatus.REVERTED, PhaseStatus.CANCELLED

WAITING = "Phase Production canary is waiting for approval — use Approve, Abort or Full Roll Out."
LIVE_BAKING = "use Pause, Skip, Abort or Full Roll Out."
LIVE_PAUSED = "use Unpause, Skip, Abort or Full Roll Out."
ALREADY_APPROVED = "Phase Production canary is already approved and live"


def ok(state, phase, statuses, ends=None, remaining=None, ended=False):
    return {"state": state, "phase": phase, "phase_statuses": statuses,
            "bake_ends_at": ends, "remaining": remaining, "ended_at": T if ended else None}


def refused(rule, *phrases):
    return (rule, phrases)


ABORTED = ok(ReleaseState.ABORTED, 1, None, ended=True)
TABLE = {
    ("awaiting_approval", Action.APPROVE):
        ok(ReleaseState.BAKING, 1, (D, B, PEND), ends=T + timedelta(hours=2)),
    ("awaiting_approval", Action.PAUSE): refused(ActionFitsState, WAITING),
    ("awaiting_approval", Action.UNPAUSE): refused(ActionFitsState, WAITING),
    ("awaiting_approval", Action.SKIP): refused(ActionFitsState, WAITING),
    ("awaiting_approval", Action.ABORT): {**ABORTED, "phase_statuses": (REV, CAN, CAN)},
    ("awaiting_approval", Action.FULL_ROLLOUT):
        ok(ReleaseState.COMPLETED, 1, (D, OUT, OUT), ended=True),

    ("baking", Action.APPROVE): refused(ActionFitsState, ALREADY_APPROVED, LIVE_BAKING),
    ("baking", Action.PAUSE):
        ok(ReleaseState.PAUSED, 1, (D, P, PEND), remaining=timedelta(hours=1)),
    ("baking", Action.UNPAUSE): refused(
        ActionFitsState, "Phase Production canary is live and baking", LIVE_BAKING),
    ("baking", Action.SKIP): ok(ReleaseState.AWAITING_APPROVAL, 2, (D, SKIP, WAIT)),
    ("baking", Action.ABORT): {**ABORTED, "phase_statuses": (REV, REV, CAN)},
    ("baking", Action.FULL_ROLLOUT): ok(ReleaseState.COMPLETED, 1, (D, SKIP, OUT), ended=True),

    ("paused", Action.APPROVE): refused(ActionFitsState, ALREADY_APPROVED, LIVE_PAUSED),
    ("paused", Action.PAUSE): refused(
        ActionFitsState, "The bake timer of phase Production canary is already paused",
        LIVE_PAUSED),
    ("paused", Action.UNPAUSE):
        ok(ReleaseState.BAKING, 1, (D, B, PEND), ends=T + timedelta(hours=1, minutes=30)),
    ("paused", Action.SKIP): ok(ReleaseState.AWAITING_APPROVAL, 2, (D, SKIP, WAIT)),
    ("paused", Action.ABORT): {**ABORTED, "phase_statuses": (REV, REV, CAN)},
    ("paused", Action.FULL_ROLLOUT): ok(ReleaseState.COMPLETED, 1, (D, SKIP, OUT), ended=True),
}
for _action in Action:
    TABLE["completed", _action] = refused(ReleaseIsActive, "has already completed")
    TABLE["aborted", _action] = refused(
        ReleaseIsActive, "was aborted, which cannot be undone", "start a new release")

STATES = ("awaiting_approval", "baking", "paused", "completed", "aborted")


def test_the_table_covers_every_state_and_action():
    assert set(TABLE) == {(s, a) for s in STATES for a in Action}


@pytest.mark.parametrize(("state", "action"), sorted(TABLE), ids=lambda v: str(v))
def test_state_action(state, action):
    release = in_state(state)
    command = Command(release.id, action, ALICE, phase=release.phase, reason="error rate up")
    expected = TABLE[state, action]

    if isinstance(expected, tuple):
        rule, phrases = expected
        with pytest.raises(RuleBroken) as refusal:
            decide(release, command, T, Everyone())
        assert refusal.value.code == rule.__name__
        for phrase in phrases:
            assert phrase in refusal.value.message
        return

    after = decide(release, command, T, Everyone()).release
    actual = {field: getattr(after, field) for field in expected}
    assert actual == expected
    assert after.id == release.id and after.to_version == release.to_version
