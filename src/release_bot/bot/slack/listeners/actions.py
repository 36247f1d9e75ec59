"""Buttons and menus: Approve and ⋯ on a status message, Show status, history's Next page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.errors import lazily
from release_bot.bot.slack.ids import ActionId, HistoryPage, ReleaseRef, Target, Unreadable
from release_bot.bot.slack.listeners.commands import show_history
from release_bot.bot.slack.replies import open_modal, where_of
from release_bot.bot.slack.status_link import status_permalink
from release_bot.bot.slack.views import confirm_modal, status_modal
from release_bot.core.machine import applicable
from release_bot.core.models import Action


def approve(release_bot: SlackContext, target: Target, user_id: str) -> None:
    """Approve: the core counts it; delivery redraws the message and replies in its thread.

    The button only ever carries an approval: any other action must be confirmed first.
    """
    if target.action is not Action.APPROVE:
        raise Unreadable(Target, f"it carries {target.action.value}, not approve")
    release_bot.act(target, user_id)


def open_confirmation(release_bot: SlackContext, target: Target, body: dict[str, Any],
                      context: BoltContext, client: WebClient) -> None:
    """An action picked from ⋯: a modal that confirms it, unless it no longer applies."""
    release = release_bot.service.release(target.release_id)
    applicable(release, target.action, target.phase)
    where = where_of(body, context)
    view = confirm_modal(release_bot.snapshot(release), target, where.channel, where.message_ts,
                         release_bot.clock())
    open_modal(client, body.get("trigger_id"), view, "the confirmation", "pick the action again.")


def show_status(release_bot: SlackContext, release_ref: ReleaseRef, body: dict[str, Any],
                client: WebClient) -> None:
    """Show status: the release as it stands, in a modal that links to its status message."""
    release = release_bot.service.release(release_ref.release_id)
    link = status_permalink(release_bot, client, release_ref.release_id)
    snap = replace(release_bot.snapshot(release), permalink=link)
    advice = f"try /release status {release_ref.release_id}."
    open_modal(client, body.get("trigger_id"), status_modal(snap, release_bot.clock()),
               "the status", advice)


def next_history_page(release_bot: SlackContext, history_page: HistoryPage,
                      body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """History's Next page: the page in place of the one clicked."""
    show_history(release_bot, client, where_of(body, context), history_page, replace=True)


def register(app: App) -> None:
    """Attach the button and menu listeners: each acks at once and works afterwards."""
    lazily(app.action(ActionId.APPROVE.value), approve)
    lazily(app.action(ActionId.MORE.value), open_confirmation)
    lazily(app.action(ActionId.OPEN_STATUS.value), show_status)
    lazily(app.action(ActionId.HISTORY_NEXT.value), next_history_page)
