"""What one environment serves for a flag, and the reason each unit gets its value."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_bot.core.evaluation import (
    BUCKETS,
    UnitNeeded,
    attributes_match,
    bucket,
    decide,
    scope_matches,
    served_flag,
)
from release_bot.core.models import Action, Phase
from release_bot.core.served import Reason, ServedFlag
from tests.support.fakes import act, expire, gate_flag, pipeline_of, staging, started

VALUES = {1: False, 2: True}
KEY = "new_checkout"


def unit(inside: bool, percent: float = 10) -> str:
    """A unit inside (or outside) the first `percent` of buckets of KEY."""
    limit = percent * BUCKETS / 100
    return next(u for u in (f"user-{n}" for n in range(10_000))
                if (bucket(KEY, u) < limit) is inside)


def served(*scopes: Phase) -> ServedFlag:
    flag = gate_flag()
    return ServedFlag(KEY, flag.kind, 1, False, 7, "P", 2, True, scopes)


def scope(**kw: object) -> Phase:
    return Phase(name="P", environments=("production",), **kw)  # type: ignore[arg-type]


def test_without_live_scopes_the_base_is_static_and_needs_no_unit():
    decision = decide(served(), None, {})
    assert (decision.version, decision.value, decision.reason) == (1, False, Reason.STATIC)


def test_a_scope_for_everyone_is_static():
    assert decide(served(scope(), scope(percentage=10)), None, {}).reason is Reason.STATIC
    assert decide(served(scope()), None, {}).value is True


def test_a_percentage_splits_and_needs_the_unit():
    ten = served(scope(percentage=10))
    assert (decide(ten, unit(True), {}).value, decide(ten, unit(True), {}).reason) == (
        True, Reason.SPLIT)
    assert (decide(ten, unit(False), {}).value, decide(ten, unit(False), {}).reason) == (
        False, Reason.SPLIT)
    with pytest.raises(UnitNeeded, match="targetingKey"):
        decide(ten, None, {})


def test_attributes_target():
    nz = served(scope(match={"country": ("NZ",)}))
    assert decide(nz, None, {"country": "NZ"}).reason is Reason.TARGETING_MATCH
    assert decide(nz, None, {"country": "NZ"}).value is True
    assert decide(nz, None, {"country": "US"}).value is False
    assert decide(nz, None, {}).reason is Reason.TARGETING_MATCH


def test_attributes_keep_a_unit_out_of_a_draw_without_needing_its_id():
    nz_ten = served(scope(percentage=10, match={"country": ("NZ",)}))
    assert decide(nz_ten, None, {"country": "US"}).reason is Reason.TARGETING_MATCH
    assert decide(nz_ten, unit(True), {"country": "NZ"}).value is True
    assert decide(nz_ten, unit(False), {"country": "NZ"}).reason is Reason.SPLIT


def test_an_environment_sees_only_its_live_scopes_and_the_release_while_active():
    flag = gate_flag(pipeline="custom")
    canary = Phase(name="Canary", environments=("production",), percentage=10,
                   bake=timedelta(hours=1))
    release = started(pipeline_of(staging(), canary))
    in_staging = served_flag(flag, VALUES, release, "staging")
    assert (in_staging.release_id, in_staging.phase_name) == (7, "Staging")
    assert [p.name for p in in_staging.scopes] == ["Staging"]
    assert served_flag(flag, VALUES, release, "production").scopes == ()

    later = expire(release)
    assert served_flag(flag, VALUES, later, "production").phase_name == "Canary"
    assert [p.name for p in served_flag(flag, VALUES, later, "production").scopes] == ["Canary"]

    aborted = served_flag(flag, VALUES, act(later, Action.ABORT, reason="x"), "staging")
    assert (aborted.release_id, aborted.scopes, aborted.base_value) == (None, (), False)


PHASES = st.builds(
    Phase,
    name=st.just("P"),
    environments=st.just(("production",)),
    percentage=st.none() | st.sampled_from([0, 0.5, 10, 50, 100]),
    match=st.sampled_from([{}, {"plan": ("beta",)}, {"plan": ("beta", "pro"), "country": ("NZ",)}]),
)


@given(st.lists(PHASES, max_size=4), st.text(min_size=1, max_size=12),
       st.fixed_dictionaries({}, optional={"plan": st.sampled_from(["beta", "pro", "free"]),
                                            "country": st.sampled_from(["NZ", "US"])}))
def test_a_unit_gets_the_new_version_exactly_when_a_live_scope_holds_it(phases, unit, attrs):
    decision = decide(served(*phases), unit, attrs)
    inside = any(scope_matches(phase, "production", bucket(KEY, unit), attrs) for phase in phases)
    assert (decision.version, decision.value) == ((2, True) if inside else (1, False))
    drawn = any(p.percentage is not None and attributes_match(p, attrs) for p in phases)
    assert (decision.reason is Reason.SPLIT) is (drawn and not any(
        p.percentage is None and attributes_match(p, attrs) for p in phases))
