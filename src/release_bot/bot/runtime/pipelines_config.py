"""What the pipelines file defines, and its error; free of YAML and pydantic, so cheap to import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release_bot.core.models import Pipeline

# a place in the file: the keys and indexes leading to it, like ("pipelines", "fast", "phases", 0)
Place = tuple[Any, ...]
# what is wrong at a place, as a sentence saying what to write instead
Problem = tuple[Place, str]


class PipelinesFileError(Exception):
    """A pipelines file that cannot be used; the message names file, line and what is wrong."""


@dataclass(frozen=True)
class PipelinesConfig:
    """What the pipelines file defines."""

    pipelines: Mapping[str, Pipeline]
    members: Mapping[str, frozenset[str]]

    @property
    def uses_checks(self) -> bool:
        """True when a phase of some pipeline has checks (so Prometheus must be reachable)."""
        return any(phase.checks for p in self.pipelines.values() for phase in p.phases)


# for commands that read only what the database holds
NO_PIPELINES = PipelinesConfig({}, {})
