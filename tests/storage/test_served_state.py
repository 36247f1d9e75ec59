"""The served revision moves with every change to what is served, and the state reads back."""

from __future__ import annotations

from release_bot.core.models import Action, Command, FlagKind
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from release_bot.storage.served import current_revision, load_served
from tests.support.samples import ENGINEER, NOW, TRIGGERER


def test_the_revision_moves_with_each_change_and_not_with_reads(
    database: Database, service: ReleaseService
) -> None:
    start = current_revision(database.engine)
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    created = current_revision(database.engine)
    assert created > start

    service.evaluate("new_checkout", "staging", "u1", {})
    service.flag("new_checkout")
    assert current_revision(database.engine) == created

    release = service.start_release("new_checkout", True, TRIGGERER, NOW)
    started = current_revision(database.engine)
    assert started > created
    service.act(Command(release.id or 0, Action.ABORT, ENGINEER, phase=0, reason="x"), NOW)
    assert current_revision(database.engine) > started


def test_the_state_holds_every_flag_its_active_release_and_the_values_served(
    database: Database, service: ReleaseService
) -> None:
    service.create_flag("gate", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    service.create_flag("config", FlagKind.CONFIG, "standard", {"limit": 5}, TRIGGERER, NOW)
    release = service.start_release("gate", True, TRIGGERER, NOW)

    state = load_served(database.engine)
    assert state.revision == current_revision(database.engine)
    assert sorted(flag.key for flag in state.flags) == ["config", "gate"]
    assert state.releases["gate"].id == release.id and "config" not in state.releases
    assert state.values == {("gate", 1): False, ("gate", 2): True, ("config", 1): {"limit": 5}}
