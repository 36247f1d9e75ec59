"""What every Slack listener needs: core service, membership, delivery kick, clock, snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from release_bot.bot.slack.ids import Target
from release_bot.bot.slack.membership import SlackMembership
from release_bot.bot.slack.views import ReleaseSnapshot
from release_bot.core.models import Action, Command, Release
from release_bot.core.service import ReleaseService


def no_status_message(release_id: int) -> tuple[str, str] | None:
    """Where status messages are when nothing keeps track of them: nowhere known."""
    return None


@dataclass(frozen=True)
class SlackContext:
    """Dependencies shared by the listeners; built once per process, handed to each request.

    `status_message` tells where a release's status message was posted, as (channel, ts).
    """

    service: ReleaseService
    membership: SlackMembership
    kick_delivery: Callable[[], None]
    clock: Callable[[], datetime]
    status_message: Callable[[int], tuple[str, str] | None] = no_status_message

    def __deepcopy__(self, memo: dict[int, Any]) -> SlackContext:
        """Shared, never copied: Bolt deep-copies a request's context for its lazy listeners."""
        return self

    def snapshot(self, release: Release) -> ReleaseSnapshot:
        """The render-ready view of a release: values of both versions and group mentions."""
        flag, versions, _ = self.service.flag(release.flag_key)
        handles = {g for p in release.pipeline.phases if p.approval for g in p.approval.groups}
        handles.update(release.pipeline.escalate_to)
        handles.update(release.pipeline.permissions.get(Action.APPROVE, ()))
        mentions = self.membership.group_ids(sorted(h for h in handles if h.startswith("@")))
        return ReleaseSnapshot(
            release=release,
            kind=flag.kind,
            old_value=versions[release.from_version].value,
            new_value=versions[release.to_version].value,
            mentions=mentions,
            unknown_groups=self.membership.unknown_groups() & handles,
        )

    def act(self, target: Target, user: str, reason: str | None = None) -> None:
        """Carry out a person's action through the core; delivery then redraws and replies."""
        command = Command(target.release_id, target.action, user, target.phase, reason)
        self.service.act(command, self.clock())
        self.kick_delivery()
