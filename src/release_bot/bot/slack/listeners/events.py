"""Events API: the App Home tab and user-group changes that keep the membership cache true."""

from __future__ import annotations

import logging
from typing import Any, TypeGuard

from slack_bolt import App
from slack_sdk import WebClient

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.errors import lazily
from release_bot.bot.slack.views import home_view
from release_bot.core.errors import DomainError
from release_bot.core.machine import awaits_approval_from
from release_bot.core.models import Release

log = logging.getLogger(__name__)


def home_opened(release_bot: SlackContext, event: dict[str, Any], client: WebClient) -> None:
    """Publish the Home tab: what waits on this person's approval first, then all that runs."""
    user = event.get("user")
    if event.get("tab", "home") != "home" or not isinstance(user, str):
        return
    active = release_bot.service.releases(active_only=True)
    waiting = [r for r in active if waits_on(release_bot, r, user)]
    view = home_view(user, [release_bot.snapshot(r) for r in waiting],
                     [release_bot.snapshot(r) for r in active], release_bot.clock())
    client.views_publish(user_id=user, view=view.to_dict())


def waits_on(ctx: SlackContext, release: Release, user: str) -> bool:
    """True when the release waits for this person's approval; unknown membership counts no."""
    try:
        return awaits_approval_from(release, user, ctx.membership)
    except DomainError:
        return False


def members_changed(release_bot: SlackContext, event: dict[str, Any]) -> None:
    """Users joined or left a group: update the cached members."""
    group_id = event.get("subteam_id")
    added, removed = _users(event.get("added_users", [])), _users(event.get("removed_users", []))
    if not group_id or added is None or removed is None:
        log.warning("subteam_members_changed without a subteam_id or user lists: ignored")
        return
    release_bot.membership.members_changed(group_id, added, removed)


def group_updated(release_bot: SlackContext, event: dict[str, Any]) -> None:
    """A group changed (handle, members): update the cache."""
    group = event.get("subteam")
    if not _is_group(group):
        log.warning("subteam_updated without a group Slack would send: ignored")
        return
    release_bot.membership.group_updated(group)


def _users(value: Any) -> list[str] | None:
    """`value` when it is a list of user ids, None when it is anything else."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _is_group(group: Any) -> TypeGuard[dict[str, Any]]:
    """True for a user group as Slack sends it: a text id and handle, user ids, a count."""
    return (isinstance(group, dict) and isinstance(group.get("id"), str) and bool(group["id"])
            and isinstance(group.get("handle", ""), str)
            and (group.get("users") is None or _users(group["users"]) is not None)
            and type(group.get("user_count", 0)) is int)


def register(app: App) -> None:
    """Attach the event listeners; the cache updates are quick enough to run before the ack."""
    lazily(app.event("app_home_opened"), home_opened)
    app.event("subteam_members_changed")(members_changed)
    app.event("subteam_updated")(group_updated)
