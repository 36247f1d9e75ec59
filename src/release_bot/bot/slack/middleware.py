"""The global middleware: each request's listeners get the SlackContext and the decoded value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import BoltContext

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.ids import CARRIED_BY_ACTION, CARRIED_BY_VIEW, Carried, Unreadable

CONTEXT_KEY = "release_bot"  # listeners take the SlackContext as the argument `release_bot`

Middleware = Callable[[BoltContext, dict[str, Any], Callable[[], None]], None]


def with_release_bot(ctx: SlackContext) -> Middleware:
    """A middleware that puts `ctx`, and the value the request carries, into Bolt's context.

    A value that cannot be read raises Unreadable, which the error path explains; listeners
    receive a decoded value by its `key` (`target`, `release_ref`, …) as an argument.
    """

    def release_bot_context(context: BoltContext, body: dict[str, Any],
                            next_: Callable[[], None]) -> None:
        context[CONTEXT_KEY] = ctx
        carried = carried_value(body)
        if carried is not None:
            context[carried.key] = carried
        next_()

    return release_bot_context


def carried_value(body: Mapping[str, Any]) -> Carried | None:
    """The value a click or a submitted modal of ours carries, decoded; None for the rest."""
    if body.get("type") == "view_submission":
        view = _mapping(body.get("view"))
        carrier = CARRIED_BY_VIEW.get(str(view.get("callback_id")))
        return None if carrier is None else carrier.decode(view.get("private_metadata"))
    actions = body.get("actions")
    if body.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None
    action = _mapping(actions[0])
    carrier = CARRIED_BY_ACTION.get(str(action.get("action_id")))
    if carrier is None:
        return None
    if not _mapping(body.get("user")).get("id"):
        raise Unreadable(carrier, "it names no user")
    value = action.get("value") or _mapping(action.get("selected_option")).get("value")
    return carrier.decode(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}
