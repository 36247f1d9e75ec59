"""What one environment serves for a flag, and the reason each unit gets its value."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core.evaluation import BUCKETS, UnitNeeded, bucket, decide, served_flag
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
