"""Twenty approvers click Approve on the same phase at once: exactly one approval counts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from release_bot.core.errors import RuleBroken
from release_bot.core.models import (
    Action,
    Command,
    FlagKind,
    NoticeKind,
    Outcome,
    Release,
    ReleaseState,
)
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.samples import APPROVER_IDS, MANAGER, NOW, TRIGGERER


def waiting_for_canary_approval(service: ReleaseService) -> Release:
    """A release of `new_checkout` waiting for the canary phase's single approval."""
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    release = service.start_release("new_checkout", True, TRIGGERER, NOW)
    assert release.id is not None
    waiting = service.act(Command(release.id, Action.SKIP, MANAGER, phase=0),
                          NOW + timedelta(minutes=5))
    assert (waiting.state, waiting.phase) == (ReleaseState.AWAITING_APPROVAL, 1)
    return waiting


def test_simultaneous_approvals_advance_exactly_one_phase(
    database: Database, service: ReleaseService
) -> None:
    release = waiting_for_canary_approval(service)
    release_id = release.id or 0
    with database.uow() as uow:
        queued_before = len(uow.outbox.list())
    start = threading.Barrier(len(APPROVER_IDS), timeout=30)
    clicked_at = NOW + timedelta(minutes=10)

    def approve(user: str) -> Release | Exception:
        start.wait()
        try:
            return service.act(Command(release_id, Action.APPROVE, user, phase=1), clicked_at)
        except Exception as error:  # noqa: BLE001 - every outcome is inspected below
            return error

    with ThreadPoolExecutor(max_workers=len(APPROVER_IDS)) as pool:
        outcomes = dict(zip(APPROVER_IDS, pool.map(approve, APPROVER_IDS), strict=True))

    winners = [user for user, outcome in outcomes.items() if isinstance(outcome, Release)]
    refusals = {user: o for user, o in outcomes.items() if isinstance(o, RuleBroken)}
    others = [o for o in outcomes.values() if not isinstance(o, (Release, RuleBroken))]
    assert not others, others
    assert len(winners) == 1, outcomes
    assert len(refusals) == 19, outcomes
    assert all(error.code == "ActionFitsState" for error in refusals.values())

    final = service.release(release_id)
    assert (final.state, final.phase) == (ReleaseState.BAKING, 1)
    assert final.approvers(1) == (winners[0],)
    assert final.bake_ends_at == clicked_at + timedelta(hours=2)

    approvals = [e for e in service.history("new_checkout") if e.action == "approve"]
    assert [(e.actor, e.to_state) for e in approvals if e.outcome is Outcome.OK] == [
        (winners[0], "baking(1)")
    ]
    refused = [e for e in approvals if e.outcome is Outcome.REFUSED]
    assert sorted(e.actor for e in refused) == sorted(refusals)
    assert all(e.rule == "ActionFitsState" and e.release_id == release_id for e in refused)

    with database.uow() as uow:
        queued = uow.outbox.list()[queued_before:]
    assert sorted(m.kind for m in queued) == [NoticeKind.ACTION_TAKEN, NoticeKind.STATUS_CHANGED]
    assert [m.payload["actor"] for m in queued if m.kind is NoticeKind.ACTION_TAKEN] == winners
