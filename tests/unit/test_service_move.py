"""ReleaseService.move_flag: the way out for a flag whose pipeline left the pipelines file."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core.errors import DomainError, InvalidInput, Kind, NotFound, RuleBroken
from release_bot.core.models import Action, Command, FlagKind, Outcome
from release_bot.core.service import ReleaseService
from tests.support.fakes import (
    ALICE,
    NOW,
    TRIGGERER,
    FakeStore,
    approvers_membership,
    pipeline_of,
    production,
    staging,
    three_phase,
)

H = timedelta(hours=1)
QUICK = pipeline_of(staging(), name="quick")


def service(store: FakeStore, *names: str) -> ReleaseService:
    """The service as a process whose pipelines file holds only the named pipelines sees it."""
    pipelines = {"standard": three_phase(), "quick": QUICK, "careful": pipeline_of(
        production(required=1), name="careful")}
    chosen = {name: pipelines[name] for name in names}
    return ReleaseService(store.unit_of_work, chosen, approvers_membership())


@pytest.fixture
def store() -> FakeStore:
    """A store with gate `f` on pipeline `quick`."""
    store = FakeStore()
    service(store, "quick").create_flag("f", FlagKind.GATE, "quick", False, ALICE, NOW)
    return store


def test_a_flag_whose_pipeline_left_the_file_is_told_how_to_get_out(store: FakeStore) -> None:
    orphaned = service(store, "standard", "careful")
    with pytest.raises(NotFound) as caught:
        orphaned.start_release("f", True, TRIGGERER, NOW)
    assert caught.value.message == (
        "f is on pipeline quick, which is no longer in the pipelines file — move it to one "
        "that is (careful, standard) with: release-bot flag move f --pipeline NAME "
        "--by USER_ID.")
    assert orphaned.releases() == [] and list(orphaned.flag("f")[1]) == [1]


def test_moving_an_orphaned_flag_lets_its_next_release_run_the_new_pipeline(
        store: FakeStore) -> None:
    orphaned = service(store, "standard", "careful")
    moved = orphaned.move_flag("f", "careful", ALICE, NOW + H)
    assert moved.pipeline == "careful" == orphaned.flag("f")[0].pipeline
    event = orphaned.history("f")[-1]
    assert (event.action, event.actor, event.outcome, event.at) == (
        "move", ALICE, Outcome.OK, NOW + H)
    assert event.message == "moved f from pipeline quick to pipeline careful"
    release = orphaned.start_release("f", True, TRIGGERER, NOW + 2 * H)
    assert release.pipeline.name == "careful"
    assert release.describe_state() == "awaiting_approval(0)"


def test_a_flag_keeps_its_values_when_it_moves(store: FakeStore) -> None:
    svc = service(store, "quick", "standard")
    release = svc.start_release("f", True, TRIGGERER, NOW)
    assert svc.act(Command(release.id, Action.SKIP, ALICE), NOW).describe_state() == "completed"
    assert svc.evaluate("f", "staging", "u1", {}) is True
    svc.move_flag("f", "standard", ALICE, NOW + H)
    assert svc.evaluate("f", "staging", "u1", {}) is True
    assert svc.evaluate("f", "production", "u1", {}) is False


def test_a_flag_with_an_active_release_does_not_move(store: FakeStore) -> None:
    svc = service(store, "quick", "standard")
    release = svc.start_release("f", True, TRIGGERER, NOW)
    svc.act(Command(release.id, Action.PAUSE, ALICE), NOW)
    before = list(store.events)
    with pytest.raises(RuleBroken) as caught:
        svc.move_flag("f", "standard", ALICE, NOW + H)
    assert caught.value.code == "OneActiveReleasePerFlag" and caught.value.kind is Kind.CONFLICT
    assert caught.value.message.startswith(f"f already has an active release (#{release.id}")
    assert store.flags["f"].pipeline == "quick" and store.events == before


@pytest.mark.parametrize(("pipeline", "actor", "error", "words"), [
    ("quick", ALICE, InvalidInput, "f is already on pipeline quick."),
    ("nope", ALICE, NotFound, "There is no pipeline nope in the pipelines file"),
    ("standard", " ", InvalidInput, "Say who acts"),
])
def test_a_move_that_cannot_be_done_changes_nothing(
        store: FakeStore, pipeline: str, actor: str, error: type[DomainError], words: str
) -> None:
    svc = service(store, "quick", "standard")
    before = (dict(store.flags), list(store.events))
    with pytest.raises(error) as caught:
        svc.move_flag("f", pipeline, actor, NOW)
    assert caught.value.message.startswith(words)
    assert (store.flags, store.events) == before


def test_an_unknown_flag_does_not_move() -> None:
    with pytest.raises(NotFound, match="There is no flag g."):
        service(FakeStore(), "quick").move_flag("g", "quick", ALICE, NOW)
