"""At start, ask Slack once whether each user-group handle of the pipelines file exists."""

from __future__ import annotations

import logging

from release_bot.bot.runtime.pipelines_config import PipelinesConfig
from release_bot.bot.slack.membership import SlackMembership

log = logging.getLogger(__name__)


def handle_places(config: PipelinesConfig) -> list[tuple[str, str, str]]:
    """Each use of a handle (`@name`) in the file: (pipeline, where in it, handle)."""
    places = []
    for name, pipeline in config.pipelines.items():
        for action, principals in pipeline.permissions.items():
            places += [(name, f"permissions, {action.value}", p) for p in principals]
        for number, phase in enumerate(pipeline.phases, start=1):
            groups = phase.approval.groups if phase.approval is not None else ()
            places += [(name, f"phase {number} ('{phase.name}'), approval", p) for p in groups]
        places += [(name, "escalate_to", p) for p in pipeline.escalate_to]
    return [place for place in places if place[2].startswith("@")]


def check_handles(config: PipelinesConfig, membership: SlackMembership) -> None:
    """Log, for each use of a handle Slack knows no user group by, where it is; one line if
    Slack cannot be asked (each handle is then checked when it is used)."""
    places = handle_places(config)
    for handle in sorted({handle for _, _, handle in places}):
        if membership.group_id(handle) is None and handle not in membership.unknown_groups():
            log.warning("could not ask Slack whether the user groups of the pipelines file "
                        "exist; each is checked when it is used")
            return
    unknown = membership.unknown_groups()
    for pipeline, where, handle in places:
        if handle in unknown:
            log.warning(
                "pipeline '%s', %s: Slack knows no user group %s, so nobody can act through it "
                "— create the group in Slack or correct the handle in the pipelines file",
                pipeline, where, handle,
            )
