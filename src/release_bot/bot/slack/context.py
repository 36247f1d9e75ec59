"""What every Slack listener needs: core service, membership, delivery kick, clock, snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from release_bot.bot.slack.membership import SlackMembership
from release_bot.bot.slack.views import ReleaseSnapshot
from release_bot.core.models import Release
from release_bot.core.service import ReleaseService


@dataclass(frozen=True)
class SlackContext:
    """Dependencies shared by the listeners; built once per process."""

    service: ReleaseService
    membership: SlackMembership
    kick_delivery: Callable[[], None]
    clock: Callable[[], datetime]

    def snapshot(self, release: Release) -> ReleaseSnapshot:
        """The render-ready view of a release: values of both versions and group mentions."""
        flag, versions, _ = self.service.flag(release.flag_key)
        handles = {g for p in release.pipeline.phases if p.approval for g in p.approval.groups}
        handles.update(release.pipeline.escalate_to)
        return ReleaseSnapshot(
            release=release,
            kind=flag.kind,
            old_value=versions[release.from_version].value,
            new_value=versions[release.to_version].value,
            mentions=self.membership.group_ids(sorted(h for h in handles if h.startswith("@"))),
        )
