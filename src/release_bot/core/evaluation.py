"""What a flag serves to a unit: the release's new version inside a live scope, else the base."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from release_bot.core.errors import InvalidInput
from release_bot.core.models import Flag, Phase, Release
from release_bot.core.served import Decision, Reason, ServedFlag

BUCKETS = 10_000


class UnitNeeded(InvalidInput):
    """A live percentage must draw the unit, and no unit id was given."""


def bucket(salt: str, unit_id: str) -> int:
    """Deterministic bucket 0–9999 of a unit for a flag's salt."""
    digest = hashlib.sha256(f"{salt}.{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def threshold(percentage: float) -> int:
    """The first bucket outside a percentage: also its weight out of BUCKETS in `fractional`."""
    return round(percentage * BUCKETS / 100)


def attributes_match(phase: Phase, attributes: Mapping[str, object]) -> bool:
    """True when the attributes hold one of the allowed values for every key the phase tests."""
    return all(
        key in attributes and str(attributes[key]) in allowed
        for key, allowed in phase.match.items()
    )


def scope_matches(
    phase: Phase, environment: str, unit_bucket: int, attributes: Mapping[str, object]
) -> bool:
    """True when the environment, bucket and attributes fall inside the phase's scope."""
    if environment not in phase.environments:
        return False
    if phase.percentage is not None and unit_bucket >= threshold(phase.percentage):
        return False
    return attributes_match(phase, attributes)


def served_flag(
    flag: Flag, values: Mapping[int, Any], release: Release | None, environment: str
) -> ServedFlag:
    """What an environment serves for a flag, given its versions' values and its release."""
    base = flag.base_version(environment)
    served = ServedFlag(flag.key, flag.kind, base, values.get(base))
    if release is None or not release.active:
        return served
    scopes = tuple(
        phase for index in release.live_phases()
        if environment in (phase := release.pipeline.phases[index]).environments
    )
    return ServedFlag(
        flag.key, flag.kind, base, values.get(base), release.id,
        release.current_phase.name, release.to_version, values.get(release.to_version), scopes,
    )


def decide(served: ServedFlag, unit_id: str | None, attributes: Mapping[str, object]) -> Decision:
    """The version, value and reason a unit (None: no unit id given) with attributes gets.

    A scope for everyone makes it STATIC, one whose attributes the unit matches without a
    percentage TARGETING_MATCH, a percentage draw SPLIT (won or lost). Raises UnitNeeded when
    only a draw could decide and there is no unit to draw. Plain loops: this runs per request.
    """
    if not served.scopes:
        return Decision(served.base_version, served.base_value, Reason.STATIC)
    targeted = False
    draws: list[float] = []  # the percentages of the scopes whose attributes the unit matches
    for phase in served.scopes:
        if phase.match and not attributes_match(phase, attributes):
            continue
        if phase.percentage is not None:
            draws.append(phase.percentage)
        elif not phase.match:
            return _new(served, Reason.STATIC)
        else:
            targeted = True
    if targeted:
        return _new(served, Reason.TARGETING_MATCH)
    if not draws:
        return _base(served, Reason.TARGETING_MATCH)
    if unit_id is None:
        raise UnitNeeded(f"{served.key} is live for a percentage of units: give the unit's id "
                         "(targetingKey) to know which side it is on.")
    unit_bucket = bucket(served.key, unit_id)
    for percentage in draws:
        if unit_bucket < threshold(percentage):
            return _new(served, Reason.SPLIT)
    return _base(served, Reason.SPLIT)


def _new(served: ServedFlag, reason: Reason) -> Decision:
    assert served.new_version is not None, "a live scope belongs to a release"
    return Decision(served.new_version, served.new_value, reason)


def _base(served: ServedFlag, reason: Reason) -> Decision:
    return Decision(served.base_version, served.base_value, reason)


def served_version(
    flag: Flag,
    release: Release | None,
    environment: str,
    unit_id: str,
    attributes: Mapping[str, object],
) -> int:
    """The version number flag serves in an environment to a unit with attributes."""
    return decide(served_flag(flag, {}, release, environment), unit_id, attributes).version


def serve(
    flag: Flag,
    versions: Mapping[int, Any],
    release: Release | None,
    environment: str,
    unit_id: str,
    attributes: Mapping[str, object],
) -> Any:
    """The value flag serves in an environment to a unit with attributes."""
    return decide(served_flag(flag, versions, release, environment), unit_id, attributes).value
