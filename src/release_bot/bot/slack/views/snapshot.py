"""What the Block Kit builders draw from: a release plus the values and names around it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from release_bot.core.models import FlagKind, Release


@dataclass(frozen=True)
class ReleaseSnapshot:
    """A release as read in one transaction, with everything a Slack view needs to show it.

    `mentions` maps a group handle (`@release-approvers`) to its Slack id (`S0123`) so that it
    can be mentioned as `<!subteam^S0123>`; a handle without an id is shown as plain `@handle`.
    `permalink` links to the release's status message, when it is known. `unknown_groups` are
    the handles among them that Slack said it knows no user group by.
    """

    release: Release
    kind: FlagKind
    old_value: Any
    new_value: Any
    mentions: Mapping[str, str] = field(default_factory=dict)
    permalink: str | None = None
    unknown_groups: frozenset[str] = frozenset()

    @property
    def release_id(self) -> int:
        """The release's id; a snapshot is only ever taken of a stored release."""
        if self.release.id is None:
            raise ValueError("a snapshot needs a stored release (with an id)")
        return self.release.id
