"""The guardrail use case over the in-memory unit of work: pause or abort, outside people's
permissions, with the reason kept; nothing when there is nothing to do."""

from __future__ import annotations

from release_bot.core.models import (
    GUARDRAIL_ACTOR,
    Action,
    FlagKind,
    NoticeKind,
    OnFail,
    ReleaseState,
)
from release_bot.core.sentences import say
from release_bot.core.service import ReleaseService
from tests.support.fakes import NOW, TRIGGERER, FakeMembership, FakeStore, three_phase

REASON = say("alert {name} fired: {summary}", name="HighErrorRate", summary="errors at 5%")


def started() -> tuple[ReleaseService, FakeStore, int]:
    store = FakeStore()
    locked = three_phase(permissions={Action.PAUSE: ("@eng",), Action.ABORT: ("@eng",)})
    service = ReleaseService(store.unit_of_work, {"standard": locked}, FakeMembership())
    service.create_flag("f", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    release = service.start_release("f", True, TRIGGERER, NOW)
    assert release.id is not None
    return service, store, release.id


def test_the_guardrail_pauses_then_finds_nothing_to_do_then_aborts() -> None:
    service, store, rid = started()
    paused = service.guardrail(rid, OnFail.PAUSE, REASON, NOW)
    assert paused is not None and paused.state is ReleaseState.PAUSED
    assert service.guardrail(rid, OnFail.PAUSE, REASON, NOW) is None
    aborted = service.guardrail(rid, OnFail.ABORT, REASON, NOW)
    assert aborted is not None and aborted.state is ReleaseState.ABORTED
    assert service.guardrail(rid, OnFail.ABORT, REASON, NOW) is None
    kept = [(e.actor, e.action, e.reason) for e in service.history("f")[-2:]]
    assert kept == [(GUARDRAIL_ACTOR, "pause", "alert HighErrorRate fired: errors at 5%"),
                    (GUARDRAIL_ACTOR, "abort", "alert HighErrorRate fired: errors at 5%")]
    taken = [n for _, _, n, _ in store.outbox if n.kind is NoticeKind.ACTION_TAKEN]
    assert taken[-1].data["actor"] == GUARDRAIL_ACTOR
    assert taken[-1].data["why"] == REASON.data()
