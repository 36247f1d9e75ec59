"""ReleaseService over the in-memory unit of work: starting, steering and finishing releases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from release_bot.core.errors import (
    ConcurrentUpdate,
    InvalidInput,
    MembershipUnavailable,
    NotFound,
    RuleBroken,
)
from release_bot.core.models import (
    Action,
    Command,
    FlagKind,
    NoticeKind,
    Outcome,
    ReleaseState,
)
from release_bot.core.rules import OneActiveReleasePerFlag, ValueChanges, ValueFitsKind
from release_bot.core.service import ReleaseService
from tests.support.fakes import (
    ALICE,
    BOB,
    CAROL,
    NOW,
    TRIGGERER,
    FakeMembership,
    FakeStore,
    approvers_membership,
    pipeline_of,
    staging,
    three_phase,
)

H = timedelta(hours=1)


def make_service(membership=None, **pipelines):
    store = FakeStore()
    pipelines = pipelines or {"standard": three_phase()}
    svc = ReleaseService(store.unit_of_work, pipelines, membership or approvers_membership())
    return svc, store


def with_flag(value=False, kind=FlagKind.GATE, **kw):
    svc, store = make_service(**kw)
    pipeline = next(iter(svc.pipelines))
    svc.create_flag("f", kind, pipeline, value, ALICE, NOW)
    return svc, store


def to_production(svc, release_id):
    """Staging bake ends, the canary is approved and skipped: Production waits for 2."""
    svc.advance_due(NOW + 0.5 * H)
    svc.act(Command(release_id, Action.APPROVE, ALICE, phase=1), NOW + H)
    return svc.act(Command(release_id, Action.SKIP, ALICE, phase=1), NOW + 2 * H)


# --- start_release ---------------------------------------------------------------------------

def test_start_release_creates_version_n_plus_1_and_records_the_trigger():
    svc, store = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    assert release.id == 1
    assert (release.from_version, release.to_version) == (1, 2)
    assert release.describe_state() == "baking(0)"
    _, versions, active = svc.flag("f")
    assert active == release
    assert versions[2].value is True and versions[2].created_by == TRIGGERER
    trigger = svc.history("f")[-1]
    assert (trigger.action, trigger.outcome, trigger.release_id) == ("trigger", Outcome.OK, 1)
    assert [(rid, channel, n.kind) for rid, channel, n, _ in store.outbox] == [
        (1, "C0RELEASES", NoticeKind.RELEASE_STARTED)]


def test_only_one_active_release_per_flag_and_the_refusal_is_in_the_history():
    svc, store = with_flag()
    first = svc.start_release("f", True, TRIGGERER, NOW)
    svc.create_flag("g", FlagKind.GATE, "standard", False, ALICE, NOW)
    svc.start_release("g", True, TRIGGERER, NOW)          # another flag is not in the way
    with pytest.raises(RuleBroken) as caught:
        svc.start_release("f", True, BOB, NOW + H)
    assert caught.value.code == OneActiveReleasePerFlag.__name__
    assert "already has an active release (#1, baking(0))" in caught.value.message
    refused = svc.history("f")[-1]
    assert (refused.action, refused.actor, refused.outcome, refused.rule, refused.at) == (
        "trigger", BOB, Outcome.REFUSED, "OneActiveReleasePerFlag", NOW + H)
    assert max(svc.flag("f")[1]) == 2, "a refused start creates no version"
    assert [r.id for r in svc.releases(flag_key="f")] == [first.id]


def test_a_new_release_may_start_once_the_previous_one_ended_and_numbers_go_on():
    svc, _ = with_flag()
    first = svc.start_release("f", True, TRIGGERER, NOW)
    svc.act(Command(first.id, Action.ABORT, ALICE, reason="errors"), NOW + H)
    second = svc.start_release("f", True, TRIGGERER, NOW + 2 * H)
    assert second.to_version == 3, "the aborted version 2 stays in the history of versions"
    assert [r.id for r in svc.releases(flag_key="f")] == [second.id, first.id]
    assert [r.id for r in svc.releases(active_only=True)] == [second.id]


@pytest.mark.parametrize(("kind", "old", "new", "rule"), [
    (FlagKind.GATE, False, False, ValueChanges),
    (FlagKind.CONFIG, {"max": 3}, {"max": 3}, ValueChanges),
    (FlagKind.GATE, False, "yes", ValueFitsKind),
    (FlagKind.CONFIG, {"max": 3}, [3], ValueFitsKind),
])
def test_a_start_that_changes_nothing_or_has_the_wrong_kind_is_refused_and_recorded(
        kind, old, new, rule):
    svc, _ = with_flag(old, kind=kind)
    with pytest.raises(RuleBroken) as caught:
        svc.start_release("f", new, TRIGGERER, NOW)
    assert caught.value.code == rule.__name__
    refused = svc.history("f")[-1]
    assert (refused.outcome, refused.rule) == (Outcome.REFUSED, rule.__name__)
    assert svc.releases() == [] and list(svc.flag("f")[1]) == [1]


def test_a_config_change_from_1_to_true_is_a_change():
    svc, _ = with_flag({"limit": 1}, kind=FlagKind.CONFIG)
    release = svc.start_release("f", {"limit": True}, TRIGGERER, NOW)
    assert release.to_version == 2


def test_the_next_release_starts_from_the_version_the_pipeline_serves():
    svc, _ = with_flag()
    first = svc.start_release("f", True, TRIGGERER, NOW)
    svc.act(Command(first.id, Action.FULL_ROLLOUT, ALICE), NOW + H)
    second = svc.start_release("f", False, TRIGGERER, NOW + 2 * H)
    assert (second.from_version, second.to_version) == (2, 3)


# --- completion and abort --------------------------------------------------------------------

def test_completion_promotes_the_new_version_in_the_pipeline_environments_only():
    svc, _ = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    release = to_production(svc, release.id)
    svc.act(Command(release.id, Action.APPROVE, BOB, phase=2), NOW + 3 * H)
    done = svc.act(Command(release.id, Action.APPROVE, CAROL, phase=2), NOW + 3 * H)
    assert done.state is ReleaseState.COMPLETED
    flag, _, active = svc.flag("f")
    assert active is None
    assert dict(flag.env_versions) == {"staging": 2, "production": 2}
    for unit in ("u1", "u2", "u3"):
        assert svc.evaluate("f", "production", unit, {}) is True
        assert svc.evaluate("f", "staging", unit, {}) is True
        assert svc.evaluate("f", "dev", unit, {}) is False, "dev is not in the pipeline"


def test_abort_brings_back_the_old_value_and_leaves_the_bases_alone():
    svc, _ = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    svc.advance_due(NOW + 0.5 * H)
    svc.act(Command(release.id, Action.APPROVE, ALICE, phase=1), NOW + H)
    aborted = svc.act(Command(release.id, Action.ABORT, BOB, reason="5xx"), NOW + 2 * H)
    assert aborted.state is ReleaseState.ABORTED
    flag, _, active = svc.flag("f")
    assert active is None and dict(flag.env_versions) == {}
    assert all(svc.evaluate("f", env, f"u{i}", {}) is False
               for env in ("staging", "production") for i in range(300))


# --- act -------------------------------------------------------------------------------------

def test_refused_and_denied_attempts_appear_in_the_history_with_outcome_and_rule():
    svc, store = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    outbox_before = len(store.outbox)
    with pytest.raises(RuleBroken):
        svc.act(Command(release.id, Action.APPROVE, ALICE, phase=0), NOW + 0.1 * H)
    svc.advance_due(NOW + 0.5 * H)
    with pytest.raises(RuleBroken):
        svc.act(Command(release.id, Action.APPROVE, "U0EVE", phase=1), NOW + 0.6 * H)
    with pytest.raises(RuleBroken):
        svc.act(Command(release.id, Action.SKIP, ALICE, phase=0), NOW + 0.7 * H)

    rows = [(e.action, e.actor, e.outcome, e.rule, e.phase, e.from_state, e.to_state)
            for e in svc.history("f") if e.outcome is not Outcome.OK]
    assert rows == [
        ("approve", ALICE, Outcome.REFUSED, "ActionFitsState", 0, "baking(0)", "baking(0)"),
        ("approve", "U0EVE", Outcome.DENIED, "ActorIsPermitted", 1,
         "awaiting_approval(1)", "awaiting_approval(1)"),
        ("skip", ALICE, Outcome.REFUSED, "ActionIsForCurrentPhase", 0,
         "awaiting_approval(1)", "awaiting_approval(1)"),
    ]
    assert all(e.release_id == release.id for e in svc.history("f")[1:])
    outbox_kinds = [n.kind for _, _, n, _ in store.outbox[outbox_before:]]
    assert outbox_kinds == [NoticeKind.STATUS_CHANGED, NoticeKind.APPROVAL_NEEDED], (
        "refusals notify no one; only the timer's move is queued")
    assert svc.release(release.id).describe_state() == "awaiting_approval(1)"


def test_a_membership_outage_is_recorded_as_denied():
    svc, _ = with_flag(membership=FakeMembership(down=True))
    release = svc.start_release("f", True, TRIGGERER, NOW)
    svc.advance_due(NOW + 0.5 * H)
    with pytest.raises(MembershipUnavailable):
        svc.act(Command(release.id, Action.APPROVE, ALICE), NOW + H)
    last = svc.history("f")[-1]
    assert (last.outcome, last.rule) == (Outcome.DENIED, "MembershipUnavailable")
    assert svc.release(release.id).describe_state() == "awaiting_approval(1)"


def test_act_on_an_unknown_release_is_not_found():
    svc, _ = with_flag()
    with pytest.raises(NotFound):
        svc.act(Command(99, Action.PAUSE, ALICE), NOW)


def test_act_retries_when_someone_else_wrote_first_and_both_approvals_count():
    svc, store = with_flag()
    release = to_production(svc, svc.start_release("f", True, TRIGGERER, NOW).id)

    def bob_clicks_first(store_, _release):
        store_.before_save = None
        svc.act(Command(release.id, Action.APPROVE, BOB, phase=2), NOW + 3 * H)

    store.before_save = bob_clicks_first
    done = svc.act(Command(release.id, Action.APPROVE, CAROL, phase=2), NOW + 3 * H)
    assert done.state is ReleaseState.COMPLETED
    assert done.approvers(2) == (BOB, CAROL)
    approvals = [e for e in svc.history("f") if e.action == "approve" and e.phase == 2]
    assert [(e.actor, e.to_state) for e in approvals] == [
        (BOB, "awaiting_approval(2)"), (CAROL, "completed")]


def test_the_loser_of_a_race_is_told_the_phase_is_already_live():
    svc, store = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    svc.advance_due(NOW + 0.5 * H)

    def bob_clicks_first(store_, _release):
        store_.before_save = None
        svc.act(Command(release.id, Action.APPROVE, BOB, phase=1), NOW + H)

    store.before_save = bob_clicks_first
    with pytest.raises(RuleBroken) as caught:
        svc.act(Command(release.id, Action.APPROVE, ALICE, phase=1), NOW + H)
    assert "already approved and live" in caught.value.message
    rows = [(e.actor, e.outcome) for e in svc.history("f") if e.action == "approve"]
    assert rows == [(BOB, Outcome.OK), (ALICE, Outcome.REFUSED)]
    assert svc.release(release.id).approvers(1) == (BOB,)


def test_act_gives_up_after_repeated_conflicts_and_changes_nothing():
    svc, store = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    events_before = len(store.events)

    def someone_always_wins(store_, saved):
        store_.releases[saved.id] = replace(store_.releases[saved.id],
                                            revision=store_.releases[saved.id].revision + 1)

    store.before_save = someone_always_wins
    with pytest.raises(ConcurrentUpdate) as caught:
        svc.act(Command(release.id, Action.PAUSE, ALICE), NOW + 0.1 * H)
    assert "kept changing" in caught.value.message
    assert len(store.events) == events_before
    assert store.releases[release.id].state is ReleaseState.BAKING


# --- advance_due -----------------------------------------------------------------------------

def test_advance_due_moves_only_the_releases_whose_timer_has_ended():
    quick = pipeline_of(staging(bake=timedelta(minutes=10)), name="quick")
    svc, _ = make_service(standard=three_phase(), quick=quick)
    svc.create_flag("slow", FlagKind.GATE, "standard", False, ALICE, NOW)
    svc.create_flag("fast", FlagKind.GATE, "quick", False, ALICE, NOW)
    slow = svc.start_release("slow", True, TRIGGERER, NOW)
    fast = svc.start_release("fast", True, TRIGGERER, NOW)

    assert svc.advance_due(NOW + timedelta(minutes=9)) == []
    moved = svc.advance_due(NOW + timedelta(minutes=10))
    assert [(r.id, r.state) for r in moved] == [(fast.id, ReleaseState.COMPLETED)]
    assert svc.release(slow.id).describe_state() == "baking(0)"
    assert svc.evaluate("fast", "staging", "u1", {}) is True
    assert svc.advance_due(NOW + timedelta(minutes=10)) == [], "nothing moves twice"
    timers = [e for e in svc.history("fast") if e.action == "timer"]
    assert len(timers) == 1 and timers[0].release_id == fast.id


def test_advance_due_does_not_report_a_move_whose_commit_failed():
    svc, store = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    store.failing_commits = 2  # the chunk's commit, then the release's own retry
    moved = svc.advance_due(NOW + H)
    assert svc.release(release.id).describe_state() == "baking(0)", "the move was lost"
    assert moved == []


def test_advance_due_retries_a_chunk_that_lost_a_race_one_release_at_a_time():
    svc, store = with_flag()
    release = svc.start_release("f", True, TRIGGERER, NOW)
    store.failing_commits = 1
    moved = svc.advance_due(NOW + H)
    assert [r.id for r in moved] == [release.id]
    assert svc.release(release.id).describe_state() == "awaiting_approval(1)"



@pytest.mark.parametrize("release_id", [0, -1, 2**31, 2**63, 10**20])
def test_an_id_out_of_range_is_no_such_release(release_id: int) -> None:
    svc, _ = make_service()
    with pytest.raises(NotFound, match=f"There is no release #{release_id}."):
        svc.release(release_id)


@pytest.mark.parametrize("actor", ["", "   "])
def test_nobody_cannot_start_or_act(actor: str) -> None:
    svc, store = with_flag()
    release = svc.start_release("f", True, ALICE, NOW)
    with pytest.raises(InvalidInput, match="Say who acts"):
        svc.act(Command(release.id, Action.PAUSE, actor), NOW)
    with pytest.raises(InvalidInput, match="Say who acts"):
        svc.create_flag("g", FlagKind.GATE, "standard", True, actor, NOW)
    assert [e.actor for e in store.events] == [ALICE, ALICE]
