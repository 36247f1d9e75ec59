"""Events API: the App Home tab and user-group changes that keep the membership cache true."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.views import home_view
from release_bot.core.errors import DomainError
from release_bot.core.machine import awaits_approval_from

log = logging.getLogger(__name__)


def publish_home(ctx: SlackContext, client: WebClient, user_id: str) -> None:
    """Show the user the active releases, those waiting on their approval first."""
    active = ctx.service.releases(active_only=True)
    waiting = []
    for release in active:
        try:
            if awaits_approval_from(release, user_id, ctx.membership):
                waiting.append(release)
        except DomainError:
            continue
    view = home_view(
        user_id, [ctx.snapshot(r) for r in waiting], [ctx.snapshot(r) for r in active], ctx.clock()
    )
    try:
        client.views_publish(user_id=user_id, view=view.to_dict())
    except SlackApiError as error:
        log.warning("could not publish the home tab: %s", error.response.get("error"))


def register(app: App, ctx: SlackContext) -> None:
    """Attach the event listeners to the Bolt app."""

    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(ctx, client, event["user"])

    app.event("app_home_opened")(ack=lambda ack: ack(), lazy=[home_opened])

    @app.event("subteam_members_changed")
    def members_changed(event: dict[str, Any]) -> None:
        group_id = event.get("subteam_id")
        if not group_id:
            log.warning("subteam_members_changed without a subteam_id: ignored")
            return
        ctx.membership.members_changed(
            group_id, event.get("added_users") or [], event.get("removed_users") or []
        )

    @app.event("subteam_updated")
    def group_updated(event: dict[str, Any]) -> None:
        group = event.get("subteam")
        if not isinstance(group, dict) or not group.get("id"):
            log.warning("subteam_updated without a subteam id: ignored")
            return
        ctx.membership.group_updated(group)
