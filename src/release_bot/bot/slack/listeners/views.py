"""Submitted modals: the confirmation of an action picked from ⋯, and the start form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.errors import lazily
from release_bot.bot.slack.flag_value import parse_value
from release_bot.bot.slack.ids import BlockId, CallbackId, Confirmation
from release_bot.bot.slack.views import reason_from_view, start_values_from_view
from release_bot.core.rules import AbortHasReason


def reason_given(ack: Ack, confirmation: Confirmation, view: dict[str, Any],
                 next_: Callable[[], None]) -> BoltResponse | None:
    """Send an abort without a reason back to the form (the core's AbortHasReason says why)."""
    reason = reason_from_view(view.get("state") or {})
    missing = AbortHasReason(confirmation.target.action, reason).broken()
    if missing is not None:
        return ack(response_action="errors", errors={BlockId.REASON.value: missing.plain})
    next_()
    return None


def confirmed(release_bot: SlackContext, confirmation: Confirmation, user_id: str,
              view: dict[str, Any]) -> None:
    """A confirmed action: the core acts; delivery redraws the message and replies in its thread."""
    release_bot.act(confirmation.target, user_id, reason_from_view(view.get("state") or {}))


def start_form_filled(ack: Ack, view: dict[str, Any],
                      next_: Callable[[], None]) -> BoltResponse | None:
    """Send a start form without a flag or a value back to the person."""
    try:
        start_values_from_view(view.get("state") or {})
    except ValueError:
        return ack(response_action="errors",
                   errors={BlockId.START_FLAG.value: "Pick a flag and type a value."})
    next_()
    return None


def submit_start(ack: Ack, release_bot: SlackContext, user_id: str, view: dict[str, Any]) -> None:
    """The start form: start the release before the ack, so that a refusal shows in the form."""
    flag_key, value = start_values_from_view(view.get("state") or {})
    release_bot.service.start_release(flag_key, parse_value(value), user_id, release_bot.clock())
    ack()
    release_bot.kick_delivery()


def register(app: App) -> None:
    """Attach the modal listeners; form checks run first, as listener middleware."""
    lazily(app.view(CallbackId.CONFIRM_ACTION.value, middleware=[reason_given]), confirmed)
    app.view(CallbackId.START_RELEASE.value, middleware=[start_form_filled])(submit_start)
