"""flagd flag definitions (https://flagd.dev/schema/v0/flags.json) of what an environment serves."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from release_bot.core.evaluation import BUCKETS, threshold
from release_bot.core.models import Phase
from release_bot.core.served import ServedFlag

SCHEMA = "https://flagd.dev/schema/v0/flags.json"

JsonLogic = dict[str, Any] | bool


class ServedView(Protocol):
    """What one environment serves now, flag by flag, and a tag that changes whenever it does."""

    @property
    def flags(self) -> Mapping[str, ServedFlag]:
        """Each flag the environment serves, by key."""
        ...

    @property
    def etag(self) -> str:
        """A digest of the content, the same on every replica for the same state."""
        ...


class ServedViews(Protocol):
    """The data plane's in-memory views of every environment (the snapshot)."""

    def view(self, environment: str) -> ServedView | None:
        """What the environment serves now; None for an environment no pipeline names."""
        ...

    def wait_for_change(self, environment: str, etag: str, timeout: float) -> ServedView:
        """The environment's view once its tag differs from `etag`, or as it is at timeout."""
        ...


def flagd_json(view: ServedView) -> str:
    """The flagd document of a view as compact JSON text."""
    return json.dumps(flagd_document(list(view.flags.values())), separators=(",", ":"))


def variant(version: int) -> str:
    """The variant name of a version: `v` and its number."""
    return f"v{version}"


def flagd_document(flags: Sequence[ServedFlag]) -> dict[str, Any]:
    """The flagd flag-definitions document of every flag one environment serves."""
    return {"$schema": SCHEMA, "flags": {served.key: flagd_flag(served) for served in flags}}


def flagd_flag(served: ServedFlag) -> dict[str, Any]:
    """One flag: its base and release variants, and targeting while a live phase needs it.

    Metadata carries what holds for every unit: the release id and phase while a release is
    active, and the version when no unit can change it (else the variant names the version).
    """
    base, new = served.base_version, served.new_version
    variants = {variant(base): served.base_value}
    metadata: dict[str, Any] = {"releaseId": served.release_id, "phase": served.phase_name}
    default, targeting = base, None
    if new is not None:
        variants[variant(new)] = served.new_value
        scopes = [phase_scope(phase, variant(new), variant(base)) for phase in served.scopes]
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
