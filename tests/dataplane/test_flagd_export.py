"""The flagd export: the real flagd in-process evaluator answers exactly as release-bot does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openfeature.contrib.tools.flagd.core import FlagdCore
from openfeature.contrib.tools.flagd.core.targeting.custom_ops import fractional
from openfeature.evaluation_context import EvaluationContext

from release_bot.bot.dataplane.flagd import flagd_document
from release_bot.core.evaluation import BUCKETS, bucket, served_flag, served_version, threshold
from release_bot.core.models import (
    Flag,
    FlagKind,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
)
from tests.support.fakes import NOW, TRIGGERER, canary, gate_flag, pipeline_of, production, staging

ENVIRONMENTS = ("staging", "production", "dev")
ATTRIBUTES = ("country", "plan")
WORDS = ("NZ", "AU", "US", "pro", "free", "", "1")
KEYS = ("new_checkout", "k", "ünïcødé-flag", "a-flag-key-longer-than-twenty-three-bytes")


def flagd_answer(document: dict[str, Any], key: str, kind: FlagKind, unit: str | None,
                 attributes: Mapping[str, object]) -> tuple[str | None, Any]:
    """(variant, value) that flagd's in-process evaluator resolves for a unit."""
    core = FlagdCore()
    core.set_flags(document)
    context = EvaluationContext(targeting_key=unit, attributes=dict(attributes))
    if kind is FlagKind.GATE:
        details: Any = core.resolve_boolean_value(key, False, context)
    else:
        details = core.resolve_object_value(key, {}, context)
    return details.variant, details.value


def release_of(pipeline: Pipeline, statuses: tuple[PhaseStatus, ...],
               state: ReleaseState = ReleaseState.BAKING, to_version: int = 2) -> Release:
    """A release of version 1 → to_version at the given phase statuses."""
    current = next((i for i, s in enumerate(statuses) if not s.live), len(statuses) - 1)
    return Release(id=7, flag_key="new_checkout", pipeline=pipeline, from_version=1,
                   to_version=to_version, triggered_by=TRIGGERER, created_at=NOW, state=state,
                   phase=current, phase_statuses=statuses)


VALUES = {1: False, 2: True}
LIVE, PENDING, WAITING = PhaseStatus.BAKING, PhaseStatus.PENDING, PhaseStatus.AWAITING_APPROVAL


def test_without_a_release_the_base_is_the_static_default():
    flag = replace(gate_flag(), env_versions={"production": 2})
    document = flagd_document([served_flag(flag, VALUES, None, "production")])
    assert document == {
        "$schema": "https://flagd.dev/schema/v0/flags.json",
        "flags": {"new_checkout": {"state": "ENABLED", "variants": {"v2": True},
                                   "defaultVariant": "v2", "metadata": {"version": 2}}},
    }


def test_a_live_percentage_becomes_a_fractional_split_of_ten_thousand():
    release = release_of(pipeline_of(staging(), canary(), production()), (LIVE, LIVE, WAITING))
    flag = gate_flag()
    definition = flagd_document([served_flag(flag, VALUES, release, "production")])["flags"][
        "new_checkout"]
    split = {"fractional": [["v2", 1000], ["v1", 9000]]}
    assert definition == {
        "state": "ENABLED", "variants": {"v1": False, "v2": True}, "defaultVariant": "v1",
        "targeting": {"if": [{"or": [{"==": [split, "v2"]}]}, "v2", "v1"]},
        "metadata": {"releaseId": 7, "phase": "Production"},
    }
    staged = flagd_document([served_flag(flag, VALUES, release, "staging")])["flags"]
    assert staged["new_checkout"]["defaultVariant"] == "v2"
    assert "targeting" not in staged["new_checkout"], "a whole live environment is static"


def test_an_attribute_match_becomes_json_logic_beside_the_percentage():
    phase = Phase("EU half", ("production",), percentage=50, match={"country": ("NZ", "AU")})
    release = release_of(pipeline_of(phase), (LIVE,))
    scope = flagd_document([served_flag(gate_flag(), VALUES, release, "production")])["flags"][
        "new_checkout"]["targeting"]["if"][0]["or"][0]
    assert scope == {"and": [{"in": [{"var": "country"}, ["NZ", "AU"]]},
                             {"==": [{"fractional": [["v2", 5000], ["v1", 5000]]}, "v2"]}]}


def picked(key: str, unit: str, weight: int) -> bool:
    """True when flagd's fractional puts the unit in the first `weight` of BUCKETS."""
    data = {"targetingKey": unit, "$flagd": {"flagKey": key}}
    return fractional(data, ["in", weight], ["out", BUCKETS - weight]) == "in"


@given(st.text(max_size=40), st.text(min_size=1, max_size=40))
def test_a_core_bucket_is_exactly_the_one_flagd_picks(key, unit):
    unit_bucket = bucket(key, unit)
    assert not picked(key, unit, unit_bucket)
    assert picked(key, unit, unit_bucket + 1)


@pytest.mark.parametrize("state", [ReleaseState.COMPLETED, ReleaseState.ABORTED])
def test_an_ended_release_serves_the_base(state):
    release = release_of(pipeline_of(canary()), (LIVE,), state=state)
    document = flagd_document([served_flag(gate_flag(), VALUES, release, "production")])
    assert document["flags"]["new_checkout"] == {
        "state": "ENABLED", "variants": {"v1": False}, "defaultVariant": "v1",
        "metadata": {"version": 1}}


# --- the property: release-bot's answer is flagd's answer ----------------------------------------

phases = st.builds(
    Phase,
    name=st.sampled_from(("A", "B", "C")),
    environments=st.lists(st.sampled_from(ENVIRONMENTS), min_size=1, max_size=3,
                          unique=True).map(tuple),
    percentage=st.none() | st.sampled_from((0, 0.01, 0.5, 10, 50, 100)) | st.floats(0, 100),
    match=st.dictionaries(st.sampled_from(ATTRIBUTES),
                          st.lists(st.sampled_from(WORDS), min_size=1, max_size=2,
                                   unique=True).map(tuple), max_size=2),
)


@st.composite
def served_flags(draw: st.DrawFn) -> tuple[Flag, dict[int, Any], Release | None]:
    """A flag with bases per environment, its versions' values, and a release in any state."""
    kind = draw(st.sampled_from(FlagKind))
    values: dict[int, Any] = {n: (n % 2 == 0 if kind is FlagKind.GATE else {"n": n, "on": True})
                              for n in (1, 2, 3)}
    flag = Flag(key=draw(st.sampled_from(KEYS)), kind=kind, pipeline="p",
                default_version=draw(st.sampled_from((1, 2))),
                env_versions=draw(st.dictionaries(st.sampled_from(ENVIRONMENTS),
                                                  st.sampled_from((1, 2)))))
    pipeline = Pipeline(name="p", phases=tuple(draw(st.lists(phases, min_size=1, max_size=4))))
    if draw(st.booleans()):
        return flag, values, None
    statuses = tuple(draw(st.sampled_from(PhaseStatus)) for _ in pipeline.phases)
    release = release_of(pipeline, statuses, state=draw(st.sampled_from(ReleaseState)),
                         to_version=draw(st.sampled_from((2, 3))))
    return flag, values, release


@cache
def unit_in_every_bucket(key: str) -> tuple[str, ...]:
    """For each bucket of the flag, a unit id that lands in it."""
    found: dict[int, str] = {}
    units = (f"user-{n}" for n in count())
    while len(found) < BUCKETS:
        unit = next(units)
        found.setdefault(bucket(key, unit), unit)
    return tuple(found[b] for b in range(BUCKETS))


def edge_units(key: str, release: Release | None) -> list[str]:
    """Units just inside and just outside every percentage of the release's pipeline."""
    if release is None:
        return []
    every = unit_in_every_bucket(key)
    limits = {threshold(p.percentage) for p in release.pipeline.phases if p.percentage is not None}
    return [every[b] for t in limits for b in (t - 1, t) if 0 <= b < BUCKETS]


attribute_values = st.sampled_from(WORDS) | st.text(max_size=5) | st.integers(0, 3) | st.none()


@settings(max_examples=400, deadline=None)
@given(served=served_flags(), environment=st.sampled_from(ENVIRONMENTS),
       units=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=8),
       attributes=st.dictionaries(st.sampled_from((*ATTRIBUTES, "other")), attribute_values))
def test_flagd_evaluates_the_export_exactly_as_release_bot(served, environment, units, attributes):
    flag, values, release = served
    document = flagd_document([served_flag(flag, values, release, environment)])
    for unit in [*units, *edge_units(flag.key, release)]:
        version = served_version(flag, release, environment, unit, attributes)
        assert flagd_answer(document, flag.key, flag.kind, unit, attributes) == (
            f"v{version}", values[version])
