"""flagd flag definitions (https://flagd.dev/schema/v0/flags.json) of what an environment serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from release_bot.core.evaluation import BUCKETS, threshold
from release_bot.core.models import Phase
from release_bot.core.serving import ServedFlag

SCHEMA = "https://flagd.dev/schema/v0/flags.json"

JsonLogic = dict[str, Any] | bool


def variant(version: int) -> str:
    """The variant name of a version: `v` and its number."""
    return f"v{version}"


def flagd_document(flags: Sequence[ServedFlag]) -> dict[str, Any]:
    """The flagd flag-definitions document of every flag one environment serves."""
    environments = {served.environment for served in flags}
    document: dict[str, Any] = {"$schema": SCHEMA,
                                "flags": {s.flag.key: flagd_flag(s) for s in flags}}
    if len(environments) == 1:
        document["metadata"] = {"environment": environments.pop()}
    return document


def flagd_flag(served: ServedFlag) -> dict[str, Any]:
    """One flag: its base and release variants, and targeting while a live phase needs it."""
    base, release = served.base_version, served.release
    variants = {variant(base): served.values[base]}
    metadata: dict[str, Any] = {}
    default, targeting = base, None
    if release is not None and release.active:
        new = release.to_version
        variants[variant(new)] = served.values[new]
        metadata = {"releaseId": release.id, "phase": release.current_phase.name}
        scopes = [phase_scope(phase, variant(new), variant(base)) for phase in served.live_phases()]
        if True in (scope is True for scope in scopes):
            default = new
        elif partial := [scope for scope in scopes if scope is not False]:
            targeting = {"if": [{"or": partial}, variant(new), variant(base)]}
    definition: dict[str, Any] = {"state": "ENABLED", "variants": variants,
                                  "defaultVariant": variant(default)}
    if targeting is None:
        metadata["version"] = default
    else:
        definition["targeting"] = targeting
    definition["metadata"] = {k: v for k, v in metadata.items() if v is not None}
    return definition


def phase_scope(phase: Phase, new: str, base: str) -> JsonLogic:
    """JsonLogic true for a unit inside the phase's attribute match and percentage."""
    tests: list[dict[str, Any]] = [{"in": [{"var": key}, list(allowed)]}
                                   for key, allowed in phase.match.items()]
    if phase.percentage is not None:
        weight = threshold(phase.percentage)
        if weight <= 0:
            return False
        if weight < BUCKETS:
            split = {"fractional": [[new, weight], [base, BUCKETS - weight]]}
            tests.append({"==": [split, new]})
    if not tests:
        return True
    return tests[0] if len(tests) == 1 else {"and": tests}
