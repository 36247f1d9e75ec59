"""What a flag serves to a unit: the release's new version inside a live scope, else the base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cbor2
import mmh3

from release_bot.core.models import Flag, Phase, Release

BUCKETS = 10_000


def bucket(flag_key: str, unit_id: str) -> int:
    """A unit's bucket 0–9999 for a flag, as flagd's `fractional` picks it out of 10,000 weights.

    flagd (the spec the pinned openfeature-provider-flagd implements) hashes the canonical CBOR
    of `[flagKey, targetingKey]` with 32-bit murmur3 and takes `hash × total weight >> 32`.
    """
    digest = mmh3.hash(cbor2.dumps([flag_key, unit_id], canonical=True), signed=False)
    return (digest * BUCKETS) >> 32


def threshold(percentage: float) -> int:
    """The first bucket outside a percentage: also its weight out of BUCKETS in `fractional`."""
    return round(percentage * BUCKETS / 100)


def scope_matches(
    phase: Phase, environment: str, unit_bucket: int, attributes: Mapping[str, object]
) -> bool:
    """True when the environment, bucket and attributes fall inside the phase's scope.

    An attribute matches when its value is one of the allowed strings (never a number or bool).
    """
    if environment not in phase.environments:
        return False
    if phase.percentage is not None and unit_bucket >= threshold(phase.percentage):
        return False
    return all(attributes.get(key) in allowed for key, allowed in phase.match.items())


def served_version(
    flag: Flag,
    release: Release | None,
    environment: str,
    unit_id: str,
    attributes: Mapping[str, object],
) -> int:
    """The version number flag serves in an environment to a unit with attributes."""
    if release is not None and release.active:
        unit_bucket = bucket(flag.key, unit_id)
        for index in release.live_phases():
            if scope_matches(release.pipeline.phases[index], environment, unit_bucket, attributes):
                return release.to_version
    return flag.base_version(environment)


def serve(
    flag: Flag,
    versions: Mapping[int, Any],
    release: Release | None,
    environment: str,
    unit_id: str,
    attributes: Mapping[str, object],
) -> Any:
    """The value flag serves in an environment to a unit with attributes."""
    return versions[served_version(flag, release, environment, unit_id, attributes)]
