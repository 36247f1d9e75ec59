"""The envelope of a request from Slack: what must hold before Bolt reads the body at all.

Bolt parses the body and reads a few fields (type, user, team, channel, actions, view, event,
response_url…) to route a request and to know whom to answer; a field of the wrong type crashes
it before any listener runs. So the HTTP front, once the signature is checked, refuses a body
that is not a JSON object of that shape (400). What listeners read beyond the envelope — values,
forms, text — they parse themselves and refuse with a sentence to the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.request.internals import parse_body

from release_bot.core.policy import is_user_id

MAX_DEPTH = 64  # Slack's deepest payloads (rich text inside a message inside a click) stay below
IDS = ("channel_id", "team_id", "enterprise_id", "thread_ts")
# Per object Bolt or a listener reads: its fields that must be text, and its inner objects.
TEXT: Mapping[str, tuple[str, ...]] = {
    "body": (*IDS, "type", "token", "api_app_id", "command", "text", "response_url",
             "trigger_id", "callback_id"),
    "event": (*IDS, "type", "tab", "subteam_id"),
    "view": ("type", "callback_id", "team_id"),
    "container": ("type", "channel_id", "message_ts"),
    "actions": ("type", "action_id", "block_id"),
    "response_urls": ("response_url",),
}
OBJECTS = ("event", "view", "container", "message", "previous_message", "item",
           "assistant_thread", "function_data")
LISTS = ("actions", "authorizations", "response_urls")  # lists of objects
NAMED = ("team", "enterprise", "channel")  # text, or an object whose id is text
PEOPLE = ("user", "user_id")
NOT_NULL = ("event", "view", "actions", "response_urls")  # Bolt reads into them when present
NEEDS = {"block_actions": "actions", "view_submission": "view", "event_callback": "event"}


class Malformed(ValueError):
    """A body Slack never sends; the message says what is wrong with it."""


def read_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """The body as Bolt will read it; Malformed when it is not an envelope Slack would send."""
    try:
        body = parse_body(raw, content_type)
    except (ValueError, RecursionError):
        raise Malformed("the body is neither Slack's form nor JSON") from None
    if not isinstance(body, dict):
        raise Malformed("the body is not a JSON object")
    _check_depth(body)
    _check(body, "body")
    needed = NEEDS.get(str(body.get("type")))
    if needed is not None and needed not in body:
        raise Malformed(f"a {body['type']} body has no {needed}")
    actions = body.get("actions")
    if actions is not None and not (actions and isinstance(actions[0].get("action_id"), str)):
        raise Malformed("body.actions has no first action with an action_id")
    return body


def _check_depth(body: dict[str, Any]) -> None:
    """Malformed when objects and arrays nest deeper than MAX_DEPTH."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Malformed(f"the body nests deeper than {MAX_DEPTH} levels")
        inner = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((value, depth + 1) for value in inner)


def _check(node: Mapping[str, Any], kind: str, where: str = "") -> None:
    """Malformed when a field of `node` (an object of that `kind`) has the wrong type."""
    text = TEXT.get(kind, IDS)
    for name, value in node.items():
        at = f"{where or kind}.{name}"
        if value is None:
            if name in NOT_NULL:
                raise Malformed(f"{at} is null")
        elif name in text:
            if not isinstance(value, str):
                raise Malformed(f"{at} is not text")
        elif name in PEOPLE:
            _check_person(value, at)
        elif name in NAMED:
            _check_named(value, at)
        elif name in OBJECTS:
            if not isinstance(value, dict):
                raise Malformed(f"{at} is not an object")
            _check(value, name, at)
        elif name in LISTS:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise Malformed(f"{at} is not a list of objects")
            for index, item in enumerate(value):
                _check(item, name, f"{at}[{index}]")


def _check_named(value: Any, at: str) -> None:
    """A team, enterprise or channel: its id as text, or an object whose id is text."""
    if isinstance(value, dict):
        value = value.get("id", "")
    if not isinstance(value, str):
        raise Malformed(f"{at} is neither text nor an object with a text id")


def _check_person(value: Any, at: str) -> None:
    """A user: a Slack user id, or an object whose id is one (or that has no id)."""
    if isinstance(value, dict):
        if "id" not in value:
            return
        value = value["id"]
    if not (isinstance(value, str) and value.isascii() and is_user_id(value)):
        raise Malformed(f"{at} is not a Slack user id")
