"""The global middleware: each request's listeners get the SlackContext and the decoded value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import BoltContext

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.ids import CARRIED_BY_ACTION, CARRIED_BY_VIEW, Carried, Unreadable
from release_bot.core.errors import InvalidInput

CONTEXT_KEY = "release_bot"  # listeners take the SlackContext as the argument `release_bot`
PEOPLES_TYPES = ("block_actions", "view_submission")  # and slash commands, which carry no type
NOBODY = "This request names no user, so nothing was done: use release-bot from Slack itself."

Middleware = Callable[[BoltContext, dict[str, Any], Callable[[], None]], None]


def with_release_bot(ctx: SlackContext) -> Middleware:
    """A middleware that puts `ctx`, and the value the request carries, into Bolt's context.

    A value that cannot be read raises Unreadable, and a person's request without a user
    InvalidInput, which the error path explains; listeners receive a decoded value by its
    `key` (`target`, `release_ref`, …) as an argument, and always a `user_id`.
    """

    def release_bot_context(context: BoltContext, body: dict[str, Any],
                            next_: Callable[[], None]) -> None:
        context[CONTEXT_KEY] = ctx
        carrier, value = carrier_of(body)
        if from_a_person(body) and not context.user_id:
            if carrier is None:
                raise InvalidInput(NOBODY)
            raise Unreadable(carrier, "it names no user")
        if carrier is not None:
            carried = carrier.decode(value)
            context[carried.key] = carried
        next_()

    return release_bot_context


def from_a_person(body: Mapping[str, Any]) -> bool:
    """True for what someone clicked, submitted or typed (as opposed to an event)."""
    return body.get("type") in PEOPLES_TYPES or "command" in body


def carrier_of(body: Mapping[str, Any]) -> tuple[type[Carried] | None, object]:
    """The kind of value a click or a submitted modal of ours carries, and the value as sent."""
    if body.get("type") == "view_submission":
        view = _mapping(body.get("view"))
        return CARRIED_BY_VIEW.get(str(view.get("callback_id"))), view.get("private_metadata")
    actions = body.get("actions")
    if body.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None, None
    action = _mapping(actions[0])
    value = action.get("value") or _mapping(action.get("selected_option")).get("value")
    return CARRIED_BY_ACTION.get(str(action.get("action_id"))), value


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}
