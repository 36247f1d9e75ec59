"""Submitted modals: the confirmation of an action picked from ⋯, and the start form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.errors import lazily
from release_bot.bot.slack.ids import BlockId, CallbackId, Confirmation
from release_bot.bot.slack.typed import flag_key, flag_value
from release_bot.bot.slack.typed import reason as typed_reason
from release_bot.bot.slack.views import reason_from_view, start_values_from_view
from release_bot.core.rules import AbortHasReason, check


def reason_given(confirmation: Confirmation, view: dict[str, Any],
                 next_: Callable[[], None]) -> None:
    """Send an abort without a reason back to the form (the core's AbortHasReason says why)."""
    check(AbortHasReason(confirmation.target.action, typed_reason(reason_from_view(view))))
    next_()


def confirmed(release_bot: SlackContext, confirmation: Confirmation, user_id: str,
              view: dict[str, Any]) -> None:
    """A confirmed action: the core acts; delivery redraws the message and replies in its thread."""
    release_bot.act(confirmation.target, user_id, typed_reason(reason_from_view(view)))


def start_form_filled(ack: Ack, view: dict[str, Any],
                      next_: Callable[[], None]) -> BoltResponse | None:
    """Send a start form without a flag or a value back to the person."""
    try:
        start_values_from_view(view)
    except ValueError:
        return ack(response_action="errors",
                   errors={BlockId.START_FLAG.value: "Pick a flag and type a value."})
    next_()
    return None


def submit_start(ack: Ack, release_bot: SlackContext, user_id: str, view: dict[str, Any]) -> None:
    """The start form: start the release before the ack, so that a refusal shows in the form."""
    key, value = start_values_from_view(view)
    release_bot.service.start_release(flag_key(key), flag_value(value), user_id,
                                      release_bot.clock())
    ack()
    release_bot.kick_delivery()


def register(app: App) -> None:
    """Attach the modal listeners; form checks run first, as listener middleware."""
    lazily(app.view(CallbackId.CONFIRM_ACTION.value, middleware=[reason_given]), confirmed)
    app.view(CallbackId.START_RELEASE.value, middleware=[start_form_filled])(submit_start)
