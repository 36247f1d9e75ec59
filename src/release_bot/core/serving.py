"""What one environment serves for one flag: the input of every data-plane document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release_bot.core.models import Flag, Phase, Release


@dataclass(frozen=True)
class ServedFlag:
    """A flag as one environment serves it: its versions' values and its active release, if any."""

    environment: str
    flag: Flag
    values: Mapping[int, Any]
    release: Release | None = None

    @property
    def base_version(self) -> int:
        """The version served to every unit outside the live phases."""
        return self.flag.base_version(self.environment)

    def live_phases(self) -> tuple[Phase, ...]:
        """The active release's live phases whose scope names this environment."""
        if self.release is None:
            return ()
        phases = self.release.pipeline.phases
        return tuple(phases[i] for i in self.release.live_phases()
                     if self.environment in phases[i].environments)
