"""What a flag serves to a unit: the release's new version inside a live scope, else the base."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from release_bot.core.models import Flag, Phase, Release

BUCKETS = 10_000


def bucket(salt: str, unit_id: str) -> int:
    """Deterministic bucket 0–9999 of a unit for a flag's salt."""
    digest = hashlib.sha256(f"{salt}.{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def scope_matches(
    phase: Phase, environment: str, unit_bucket: int, attributes: Mapping[str, str]
) -> bool:
    """True when the environment, bucket and attributes fall inside the phase's scope."""
    if environment not in phase.environments:
        return False
    if phase.percentage is not None and unit_bucket >= round(phase.percentage * BUCKETS / 100):
        return False
    return all(
        key in attributes and str(attributes[key]) in allowed
        for key, allowed in phase.match.items()
    )


def served_version(
    flag: Flag,
    release: Release | None,
    environment: str,
    unit_id: str,
    attributes: Mapping[str, str],
) -> int:
    """The version number flag serves in an environment to a unit with attributes."""
    if release is not None and release.active:
        unit_bucket = bucket(flag.salt, unit_id)
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
    attributes: Mapping[str, str],
) -> Any:
    """The value flag serves in an environment to a unit with attributes."""
    return versions[served_version(flag, release, environment, unit_id, attributes)]
