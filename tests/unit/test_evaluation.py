"""What a unit is served: buckets, scope matching and the release's live phases."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import mmh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_bot.core.evaluation import (
    BUCKETS,
    bucket,
    scope_matches,
    serve,
    served_version,
    threshold,
)
from release_bot.core.models import Action, ApprovalGate, Phase
from tests.support.fakes import ALICE, act, expire, gate_flag, pipeline_of, staging, started

VALUES = {1: False, 2: True}


def test_a_bucket_is_deterministic_and_depends_on_flag_key_and_unit():
    assert bucket("new_checkout", "user-1") == bucket("new_checkout", "user-1")
    units = [f"user-{i}" for i in range(200)]
    assert [bucket("a", u) for u in units] != [bucket("b", u) for u in units]
    assert len({bucket("a", u) for u in units}) > 150


@given(st.text(max_size=40), st.text(max_size=40))
def test_a_bucket_is_always_in_range(key, unit):
    assert 0 <= bucket(key, unit) < BUCKETS == 10_000


@pytest.mark.parametrize(("key", "unit", "expected"), [
    # canonical CBOR of ["new_checkout", "user-1"] is 82 6c 6e65…74 66 7573…31
    ("new_checkout", "user-1", (mmh3.hash(bytes.fromhex("826c6e65775f636865636b6f7574"
                                                         "66757365722d31"), signed=False)
                                * 10_000) >> 32),
    ("", "", (mmh3.hash(bytes.fromhex("826060"), signed=False) * 10_000) >> 32),
])
def test_a_bucket_hashes_the_cbor_array_of_flag_key_and_unit(key, unit, expected):
    assert bucket(key, unit) == expected


def test_buckets_are_roughly_uniform():
    deciles = Counter(bucket("new_checkout", f"unit-{i}") // 1000 for i in range(10_000))
    assert sorted(deciles) == list(range(10))
    assert all(850 <= count <= 1150 for count in deciles.values()), deciles


def phase(**kw):
    return Phase(name="P", environments=kw.pop("environments", ("production",)), **kw)


@pytest.mark.parametrize(("scope", "environment", "unit_bucket", "attrs", "matches"), [
    (phase(), "production", 9999, {}, True),
    (phase(), "staging", 0, {}, False),
    (phase(environments=("staging", "production")), "staging", 5000, {}, True),
    (phase(percentage=10), "production", 999, {}, True),
    (phase(percentage=10), "production", 1000, {}, False),
    (phase(percentage=0), "production", 0, {}, False),
    (phase(percentage=100), "production", 9999, {}, True),
    (phase(percentage=0.5), "production", 49, {}, True),
    (phase(percentage=0.5), "production", 50, {}, False),
    (phase(match={"country": ("NZ", "AU")}), "production", 0, {"country": "NZ"}, True),
    (phase(match={"country": ("NZ", "AU")}), "production", 0, {"country": "US"}, False),
    (phase(match={"country": ("NZ",)}), "production", 0, {}, False),
    (phase(match={"country": ("NZ",), "plan": ("pro",)}), "production", 0,
     {"country": "NZ", "plan": "free"}, False),
    (phase(match={"country": ("NZ",), "plan": ("pro",)}), "production", 0,
     {"country": "NZ", "plan": "pro", "extra": "x"}, True),
    (phase(percentage=10, match={"country": ("NZ",)}), "production", 1500, {"country": "NZ"},
     False),
    (phase(match={"tier": ("3",)}), "production", 0, {"tier": "3"}, True),
    (phase(match={"tier": ("3",)}), "production", 0, {"tier": 3}, False),
])
def test_scope_matching(scope, environment, unit_bucket, attrs, matches):
    assert scope_matches(scope, environment, unit_bucket, attrs) is matches


def units_in(percent, key="new_checkout", n=2000):
    limit = percent * 100
    return [u for u in (f"u{i}" for i in range(n)) if bucket(key, u) < limit]


def test_units_of_a_smaller_percentage_are_inside_every_larger_one():
    ten, fifty = set(units_in(10)), set(units_in(50))
    assert ten and ten < fifty


@given(st.floats(0, 100), st.floats(0, 100))
def test_thresholds_grow_with_percentages(smaller, larger):
    smaller, larger = sorted((smaller, larger))
    assert 0 <= threshold(smaller) <= threshold(larger) <= BUCKETS


def test_the_new_version_is_served_only_inside_live_phase_scopes():
    canary = Phase(name="Canary", environments=("production",), percentage=10,
                   approval=ApprovalGate(("@approvers",)), bake=timedelta(hours=1))
    release = expire(started(pipeline_of(staging(), canary)))      # staging live, canary waits
    flag = gate_flag(pipeline="custom")
    inside, outside = units_in(10)[0], next(u for u in (f"u{i}" for i in range(99))
                                            if u not in units_in(10))

    assert serve(flag, VALUES, release, "staging", outside, {}) is True
    assert serve(flag, VALUES, release, "production", inside, {}) is False, (
        "a phase waiting for approval serves nothing")
    assert serve(flag, VALUES, release, "dev", inside, {}) is False

    live = act(release, Action.APPROVE, ALICE)
    assert serve(flag, VALUES, live, "production", inside, {}) is True
    assert serve(flag, VALUES, live, "production", outside, {}) is False
    assert serve(flag, VALUES, live, "staging", outside, {}) is True, "earlier phases stay live"

    paused = act(live, Action.PAUSE)
    assert serve(flag, VALUES, paused, "production", inside, {}) is True, (
        "pause never takes anything down")


def test_an_aborted_release_serves_the_base_everywhere():
    release = act(started(), Action.ABORT, reason="errors")
    flag = gate_flag()
    for environment in ("staging", "production"):
        assert served_version(flag, release, environment, "u1", {}) == 1


def test_without_a_release_the_environment_base_is_served():
    flag = replace(gate_flag(), env_versions={"staging": 2})
    assert served_version(flag, None, "staging", "u1", {}) == 2
    assert served_version(flag, None, "production", "u1", {}) == 1


def test_a_completed_release_leaves_serving_to_the_promoted_bases():
    release = act(started(), Action.FULL_ROLLOUT)
    flag = gate_flag()
    assert served_version(flag, release, "production", "u1", {}) == 1, "bases not yet promoted"
    promoted = flag.promoted(2, release.pipeline.environments)
    assert served_version(promoted, release, "production", "u1", {}) == 2
    assert served_version(promoted, release, "dev", "u1", {}) == 1
