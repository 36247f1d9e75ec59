"""Hypothesis strategies for hostile Slack requests: wild values in Slack's shapes, and bodies
of the wrong shape altogether.

Every request names a fresh person (`U0FUZZ…`), in no user group, so nothing it asks for can
be allowed: what the bot does is refuse, and a test can tell its reply from any other.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId, InputId

ODD_DIGITS = ["²", "١٢", "①", "٣", "𝟗", "0x1f", "1e3", "-1", "+1", " 1", "1_0", "0"]
ACTIONS = ["approve", "pause", "unpause", "skip", "abort", "full_rollout", "launch", ""]
SUBCOMMANDS = ["help", "list", "status", "history", "start", "STATUS", "stat", ""]

# Text Slack can carry in a form (no lone surrogates: a form body is UTF-8).
form_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
# Text a JSON body can carry: lone surrogates and NUL included.
any_text = st.text(max_size=40)

EDGES = [str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), str(2**64),  # ids, numbers
         "0" * 25 + "1"]
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(EDGES),
    st.integers(min_value=19, max_value=4400).map(lambda n: "9" * n),
    st.sampled_from(ODD_DIGITS),
    st.just("1"),
)
json_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        any_text)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(any_text, inner, max_size=3)),
    max_leaves=8,
)


def nested(depth: int, leaf: str = "1") -> str:
    """JSON nested `depth` arrays deep."""
    return "[" * depth + leaf + "]" * depth


json_texts = st.one_of(
    json_values.map(json.dumps),
    st.integers(min_value=1, max_value=3000).map(nested),
    st.integers(min_value=4290, max_value=4400).map(lambda n: "9" * n),
    st.sampled_from(["“true”", "{“a”: 1}", '{"a": 1, "a": 2}', "NaN", "1e400", "tru", "{"]),
    form_text,
)


@st.composite
def targets(draw: st.DrawFn) -> str:
    """Values shaped like a control's `action:release:phase`, with wild parts."""
    parts = [draw(st.sampled_from(ACTIONS)), draw(numbers), draw(numbers)]
    parts += draw(st.lists(numbers, max_size=1))
    return ":".join(parts)


carried = st.one_of(
    targets(),
    numbers,
    st.builds(lambda key, page: f"{key}:{page}", st.sampled_from(["new_checkout", "x", ""]),
              numbers),
    any_text,
    json_values,
)
flag_keys = st.one_of(st.sampled_from(["new_checkout", "#1", "1", "nope"]), numbers, form_text)
slash_args = st.one_of(flag_keys, json_texts, numbers.map(lambda n: "#" + n))


@st.composite
def slash_texts(draw: st.DrawFn) -> str:
    """`/release` text: a known (or near) subcommand with wild arguments, or any text."""
    if draw(st.booleans()):
        return draw(form_text)
    words = [draw(st.sampled_from(SUBCOMMANDS))] + draw(st.lists(slash_args, max_size=3))
    return draw(st.sampled_from([" ", "  ", "\t"])).join(words)


@st.composite
def clicks(draw: st.DrawFn, user: str, response_url: str, trigger_id: str) -> dict[str, Any]:
    """A `block_actions` payload on a status message, an ephemeral reply or the App Home."""
    action: dict[str, Any] = {
        "action_id": draw(st.one_of(st.sampled_from([a.value for a in ActionId]), form_text)),
        "block_id": BlockId.CONTROLS.value,
    }
    value = draw(carried)
    if draw(st.booleans()):
        action |= {"type": "button", "value": value}
    else:
        action |= {"type": "overflow", "selected_option": {"value": value}}
    payload: dict[str, Any] = {"type": "block_actions", "user": {"id": user},
                               "trigger_id": trigger_id, "actions": [action]}
    where = draw(st.sampled_from(["message", "ephemeral", "home"]))
    if where == "home":  # Slack sends no response_url and no channel from the App Home
        payload["container"] = {"type": "view", "view_id": "V0HOME"}
        payload["view"] = {"id": "V0HOME", "type": "home"}
    else:
        payload["container"] = {"type": "message", "channel_id": "C0RELEASE",
                                "message_ts": "1.1", "is_ephemeral": where == "ephemeral"}
        payload["channel"] = {"id": "C0RELEASE"}
        payload["response_url"] = response_url
    return payload


def confirmation(target: str, channel: Any, ts: Any) -> str:
    """A confirmation modal's private_metadata."""
    return json.dumps({"target": target, "channel": channel, "ts": ts})


metadata = st.one_of(
    st.builds(confirmation, targets(), st.one_of(st.just("C0RELEASE"), any_text, json_values),
              st.one_of(st.just("1.1"), any_text, json_values)),
    any_text,
    json_texts,
    json_values,
)


def form_values(reason: Any, flag: Any, value: Any) -> dict[str, Any]:
    """`view.state.values` with the abort reason, the start form's flag and its value."""
    return {
        BlockId.REASON.value: {InputId.REASON.value: {"type": "plain_text_input",
                                                      "value": reason}},
        BlockId.START_FLAG.value: {InputId.START_FLAG.value: {"selected_option":
                                                              {"value": flag}}},
        BlockId.START_VALUE.value: {InputId.START_VALUE.value: {"value": value}},
    }


states = st.one_of(
    st.builds(lambda values: {"values": values},
              st.builds(form_values, st.one_of(any_text, json_values), flag_keys | any_text,
                        json_texts | any_text)),
    st.builds(lambda values: {"values": values}, json_values),
    json_values,
)


@st.composite
def submissions(draw: st.DrawFn, user: str) -> dict[str, Any]:
    """A `view_submission` of one of our modals (or another), with wild metadata and state."""
    view: dict[str, Any] = {
        "id": "V0VIEW",
        "type": "modal",
        "callback_id": draw(st.one_of(st.sampled_from([c.value for c in CallbackId]),
                                      form_text)),
        "private_metadata": draw(metadata),
    }
    if draw(st.integers(0, 4)):
        view["state"] = draw(states)
    return {"type": "view_submission", "user": {"id": user}, "view": view}


@st.composite
def events(draw: st.DrawFn, user: str) -> dict[str, Any]:
    """An event we subscribe to (or another), its fields of any JSON type."""
    kind = draw(st.sampled_from(["app_home_opened", "subteam_members_changed",
                                 "subteam_updated", "message", "x"]))
    event: dict[str, Any] = {"type": kind, "user": user, "tab": "home"}
    fields = ["tab", "subteam_id", "added_users", "removed_users", "subteam", "channel", "text"]
    for field in draw(st.lists(st.sampled_from(fields), unique=True, max_size=4)):
        event[field] = draw(json_values)
    if kind.startswith("subteam") and draw(st.booleans()):
        event["subteam"] = {"id": draw(st.one_of(st.just("S0APPR"), json_values)),
                            "handle": draw(json_values), "users": draw(json_values),
                            "user_count": draw(json_values)}
    return event


ENVELOPE_FIELDS = [
    "type", "user", "user_id", "team", "team_id", "enterprise", "enterprise_id", "channel",
    "channel_id", "actions", "view", "event", "container", "message", "response_url",
    "response_urls", "authorizations", "is_ext_shared_channel", "command", "text",
    "trigger_id", "callback_id", "challenge", "ssl_check", "thread_ts", "previous_message",
    "item", "function_data",
]
TYPES = ["block_actions", "view_submission", "event_callback", "url_verification",
         "shortcut", "view_closed", "block_suggestion", "interactive_message"]


@st.composite
def envelopes(draw: st.DrawFn) -> str:
    """A JSON body whose fields Slack sends (and Bolt reads) hold any JSON, some deeply nested;
    or a body that is not an object at all."""
    if not draw(st.integers(0, 9)):
        return json.dumps(draw(json_values))
    body = {field: draw(json_values) for field in
            draw(st.lists(st.sampled_from(ENVELOPE_FIELDS), unique=True, max_size=6))}
    if draw(st.booleans()):
        body["type"] = draw(st.sampled_from(TYPES))
    text = json.dumps(body)
    if draw(st.booleans()):
        field = json.dumps(draw(st.sampled_from(ENVELOPE_FIELDS)))
        deep = nested(draw(st.integers(10, 5000)), "{}")
        text = text[:-1] + (", " if body else "") + f"{field}: {deep}}}"
    return text
