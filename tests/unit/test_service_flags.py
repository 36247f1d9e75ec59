"""ReleaseService over the in-memory unit of work: creating flags and evaluating them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core.errors import InvalidInput, NotFound, RuleBroken
from release_bot.core.models import Action, Command, FlagKind, Outcome
from release_bot.core.rules import ValueFitsKind
from release_bot.core.service import ReleaseService
from tests.support.fakes import ALICE, NOW, TRIGGERER, FakeStore, approvers_membership, three_phase


def make_service():
    store = FakeStore()
    svc = ReleaseService(store.unit_of_work, {"standard": three_phase()}, approvers_membership())
    return svc, store


def test_create_flag_stores_version_1_as_the_base_everywhere_and_records_it():
    svc, store = make_service()
    flag = svc.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    got, versions, active = svc.flag("new_checkout")
    assert got == flag and active is None
    assert {n: v.value for n, v in versions.items()} == {1: False}
    assert versions[1].created_by == TRIGGERER and versions[1].created_at == NOW
    assert svc.evaluate("new_checkout", "production", "u1", {}) is False
    (event,) = svc.history("new_checkout")
    assert (event.action, event.actor, event.outcome) == ("create", TRIGGERER, Outcome.OK)


def test_create_config_with_an_object_value():
    svc, _ = make_service()
    svc.create_flag("checkout.limits", FlagKind.CONFIG, "standard", {"max": 3}, ALICE, NOW)
    assert svc.evaluate("checkout.limits", "staging", "u1", {}) == {"max": 3}


@pytest.mark.parametrize("key", ["", "has space", "-leading-dash", "_leading", "a/b", "é",
                                 "x" * 101, "semi;colon"])
def test_create_flag_refuses_a_bad_key(key):
    svc, store = make_service()
    with pytest.raises(InvalidInput) as caught:
        svc.create_flag(key, FlagKind.GATE, "standard", False, ALICE, NOW)
    assert "is not a valid flag key" in caught.value.message
    assert store.flags == {}


def test_create_flag_refuses_a_key_with_a_trailing_newline():
    svc, store = make_service()
    with pytest.raises(InvalidInput):
        svc.create_flag("new_checkout\n", FlagKind.GATE, "standard", False, ALICE, NOW)


@pytest.mark.parametrize("key", ["a", "A1", "new_checkout", "checkout.v2", "x-y", "x" * 100])
def test_create_flag_accepts_good_keys(key):
    svc, store = make_service()
    svc.create_flag(key, FlagKind.GATE, "standard", False, ALICE, NOW)
    assert key in store.flags


@pytest.mark.parametrize(("kind", "value"), [
    (FlagKind.GATE, 1), (FlagKind.GATE, "true"), (FlagKind.GATE, None),
    (FlagKind.CONFIG, [1, 2]), (FlagKind.CONFIG, "{}"), (FlagKind.CONFIG, True),
])
def test_create_flag_refuses_a_value_of_the_wrong_kind(kind, value):
    svc, store = make_service()
    with pytest.raises(RuleBroken) as caught:
        svc.create_flag("f", kind, "standard", value, ALICE, NOW)
    assert caught.value.code == ValueFitsKind.__name__
    assert ("true or false" if kind is FlagKind.GATE else "JSON object") in caught.value.message
    assert store.flags == {}


def test_create_flag_refuses_an_unknown_pipeline_and_names_the_known_ones():
    svc, store = make_service()
    with pytest.raises(NotFound) as caught:
        svc.create_flag("f", FlagKind.GATE, "nope", False, ALICE, NOW)
    assert "nope" in caught.value.message and "standard" in caught.value.message
    assert store.flags == {}


def test_create_flag_refuses_a_duplicate_and_keeps_the_original():
    svc, store = make_service()
    svc.create_flag("f", FlagKind.GATE, "standard", False, ALICE, NOW)
    with pytest.raises(InvalidInput) as caught:
        svc.create_flag("f", FlagKind.GATE, "standard", True, ALICE, NOW)
    assert "already exists" in caught.value.message
    assert svc.evaluate("f", "production", "u1", {}) is False
    assert len(svc.history("f")) == 1


def test_unknown_flags_are_not_found():
    svc, _ = make_service()
    for call in (lambda: svc.flag("nope"), lambda: svc.history("nope"),
                 lambda: svc.evaluate("nope", "production", "u", {}),
                 lambda: svc.start_release("nope", True, ALICE, NOW)):
        with pytest.raises(NotFound):
            call()


def test_evaluate_follows_the_release_through_its_phases():
    svc, _ = make_service()
    svc.create_flag("f", FlagKind.GATE, "standard", False, ALICE, NOW)
    release = svc.start_release("f", True, TRIGGERER, NOW)
    assert svc.evaluate("f", "staging", "u1", {}) is True
    assert svc.evaluate("f", "production", "u1", {}) is False

    svc.advance_due(NOW + timedelta(minutes=30))
    svc.act(Command(release.id, Action.APPROVE, ALICE, phase=1), NOW + timedelta(hours=1))
    served = [svc.evaluate("f", "production", f"u{i}", {}) for i in range(1000)]
    assert 50 < served.count(True) < 150, "the canary serves about 10% of production"
