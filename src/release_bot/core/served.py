"""What one environment serves for one flag, and why a unit got what it got."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from release_bot.core.models import FlagKind, Phase


@dataclass(frozen=True)
class ServedFlag:
    """One flag in one environment: its base, and an active release's live scopes there.

    `release_id` and `phase_name` are set while a release of the flag is active (even before
    any of its phases is live); `scopes` are its live phases that name this environment.
    """

    key: str
    kind: FlagKind
    base_version: int
    base_value: Any
    release_id: int | None = None
    phase_name: str | None = None
    new_version: int | None = None
    new_value: Any = None
    scopes: tuple[Phase, ...] = ()


class Reason(StrEnum):
    """Why a unit got its value, in OpenFeature's words."""

    STATIC = "STATIC"  # nothing about the unit could change the answer
    SPLIT = "SPLIT"  # a percentage of units decided it
    TARGETING_MATCH = "TARGETING_MATCH"  # the unit's attributes decided it


@dataclass(frozen=True)
class Decision:
    """The version a unit is served, its value and the reason."""

    version: int
    value: Any
    reason: Reason
