"""Hostile requests, one of each kind an earlier fuzz found: the signature is checked before the
body is read; a signed body Slack never sends is a 400; the person behind anything else gets one
sentence — where there is no response_url, ephemerally or in a direct message — and no ERROR."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from release_bot.bot.slack import http
from release_bot.bot.slack.errors import FAULT
from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId
from release_bot.core.models import ReleaseState
from tests.support.fake_slack import Call
from tests.support.flows import (
    FLAG,
    StatusMessage,
    events,
    reason_values,
    start,
    texts,
    wait_for_new,
)
from tests.support.harness import CHANNEL, DEV, MGR, OUTSIDER, RunningBot


@pytest.fixture
def status(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> Iterator[StatusMessage]:
    """A baking release; afterwards it has not moved, and nothing was logged as an ERROR."""
    status = start(bot)
    yield status
    assert bot.service.release(status.release_id).state is ReleaseState.BAKING
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def said(call: Call) -> str:
    """The text of a reply."""
    text: str = call.params["text"]
    assert text != FAULT and "Traceback" not in text
    return text


# --- the signature first ---------------------------------------------------------------------

HOSTILE_BODIES = [
    ('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", "application/json"),
    ("[1, 2]", "application/json"),
    ("payload=%22a+string%22", "application/x-www-form-urlencoded"),
    (json.dumps({"type": "block_actions", "user": 5, "actions": [{"action_id": "x"}]}),
     "application/json"),
]


def test_an_unsigned_request_is_refused_before_its_body_is_read(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    monkeypatch.setattr(http, "read_body", lambda raw, kind: read.append(raw))
    now = int(time.time())
    forged = [(str(now), "v0=" + "0" * 64), ("yesterday", "v0=0"), ("²", "v0=0"),
              (str(now), "v0=é" * 10), ("9" * 5000, "v0=0")]
    for body, content_type in HOSTILE_BODIES:
        for timestamp, signature in forged:
            answer = bot.post(body, content_type, timestamp=timestamp, signature=signature)
            assert answer.status == 401, (body[:40], timestamp[:10], signature)
    assert read == []


SIGNED_BUT_MALFORMED = [
    *HOSTILE_BODIES,
    ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    (json.dumps({"type": "event_callback", "authorizations": 5, "event": {"type": "x"}}),
     "application/json"),
    (json.dumps({"type": "block_actions", "team": 5, "actions": [{"action_id": "x"}]}),
     "application/json"),
    (json.dumps({"type": "block_actions", "user": {"id": "U1"}, "channel": 5,
                 "actions": [{"action_id": "x"}]}), "application/json"),
    (json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": ["x"]}),
     "application/json"),
    (json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []}),
     "application/json"),
    (json.dumps({"type": "view_submission", "user": {"id": "U1"}, "view": "x"}),
     "application/json"),
    (json.dumps({"type": "event_callback", "event": [1]}), "application/json"),
    (json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": 5}}),
     "application/json"),
    (json.dumps({"command": "/release", "user_id": "\ud800", "text": "list"}),
     "application/json"),
    ("{not json", "application/json"),
    ('{"type": "block_actions", "a": ' + "[" * 70 + "]" * 70 + "}", "application/json"),
]


def test_a_signed_body_slack_never_sends_is_a_400(bot: RunningBot,
                                                  status: StatusMessage) -> None:
    since = len(bot.fake.calls)
    for body, content_type in SIGNED_BUT_MALFORMED:
        answer = bot.post(body, content_type)
        assert answer.status == 400, body[:80]
        assert answer.body.startswith(b"malformed request: ")
    assert bot.fake.calls[since:] == []


# --- a person who typed or clicked hears why -------------------------------------------------

def test_commands_with_odd_numbers_and_values_are_answered_with_a_sentence(
    bot: RunningBot, status: StatusMessage
) -> None:
    cases = {
        "status ²": "There is no flag `²`",
        "status 99999999999999999999999": "There is no release #99999999999999999999999",
        "status " + "9" * 4301: "release numbers have at most",
        "history " + "x" * 300: "a key is letters, digits",
        f"start {FLAG} " + "[" * 5000: "nested more than 32 levels",
        f"start {FLAG} " + "9" * 4301: "too large",
        "start nope true": "There is no flag `nope`",
        "\u202e" * 3000: "I don't know",
    }
    for text, expected in cases.items():
        since = len(bot.fake.calls)
        bot.slash(DEV, text)
        [reply] = wait_for_new(bot.fake, "response_url", since)
        assert expected in said(reply), (text[:30], reply.params["text"])
        assert len(reply.params["text"]) < 400


def test_a_command_sent_as_json_is_read_alike(bot: RunningBot, status: StatusMessage) -> None:
    since = len(bot.fake.calls)
    body = json.dumps({"command": "/release", "text": "history \ud800", "user_id": DEV,
                       "response_url": bot.fake.response_url("json")})
    assert bot.post(body, "application/json").status == 200
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "There is no flag" in said(reply)


def home_click(action_id: str, value: str, user: str = DEV) -> dict[str, Any]:
    """A click on the App Home tab: Slack sends neither a response_url nor a channel."""
    return {"type": "block_actions", "user": {"id": user}, "trigger_id": "trigger-home",
            "container": {"type": "view", "view_id": "V0HOME"},
            "view": {"id": "V0HOME", "type": "home"},
            "actions": [{"action_id": action_id, "type": "button", "value": value}]}


def test_a_refused_click_on_the_home_tab_is_answered_in_a_direct_message(
    bot: RunningBot, status: StatusMessage
) -> None:
    for action_id, value, expected in [
        (ActionId.APPROVE, f"approve:{status.release_id}:1", "has not reached"),
        (ActionId.OPEN_STATUS, "999", "There is no release #999"),
        (ActionId.OPEN_STATUS, "99999999999999999999999", "could not be read"),
        (ActionId.OPEN_STATUS, "²", "could not be read"),
        (ActionId.HISTORY_NEXT, f"{FLAG}:2", "History of"),
    ]:
        since = len(bot.fake.calls)
        assert bot.interactive(home_click(action_id.value, value)).status == 200
        [dm] = wait_for_new(bot.fake, "chat.postMessage", since)
        assert dm.params["channel"] == DEV
        assert expected in said(dm) or expected in texts(dm.params["blocks"])


def test_a_reply_the_response_url_refuses_goes_ephemeral(bot: RunningBot,
                                                         status: StatusMessage) -> None:
    bot.fake.http_status("response_url", 404)
    since = len(bot.fake.calls)
    bot.click(DEV, ActionId.APPROVE.value, "approve:²:1", message_ts=status.ts)
    [ephemeral] = wait_for_new(bot.fake, "chat.postEphemeral", since)
    assert (ephemeral.params["channel"], ephemeral.params["user"]) == (CHANNEL, DEV)
    assert "could not be read" in said(ephemeral)


def test_the_approve_button_carries_only_an_approval(bot: RunningBot,
                                                     status: StatusMessage) -> None:
    since = len(bot.fake.calls)
    bot.click(MGR, ActionId.APPROVE.value, f"full_rollout:{status.release_id}:0",
              message_ts=status.ts)
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "not approve" in said(reply)


def test_what_the_app_does_not_know_is_answered_too(bot: RunningBot,
                                                   status: StatusMessage) -> None:
    since = len(bot.fake.calls)
    bot.click(DEV, "release_launch", "launch:1:0", message_ts=status.ts)
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "does not know this control" in said(reply)

    form = bot.submit(DEV, "old_form", "", {})
    assert form.json()["response_action"] == "update"
    assert "does not know this control, form" in texts(form.json()["view"]["blocks"])


@pytest.mark.parametrize("state", [
    {"values": [1]}, "values", {"values": {BlockId.REASON.value: [1]}},
    {"values": {BlockId.REASON.value: {"reason_input": "x"}}}, None,
], ids=repr)
def test_a_form_of_the_wrong_shape_is_answered_in_the_form(
    bot: RunningBot, status: StatusMessage, state: Any
) -> None:
    metadata = json.dumps({"target": f"abort:{status.release_id}:0", "channel": CHANNEL,
                           "ts": status.ts})
    view = {"id": "V1", "type": "modal", "callback_id": CallbackId.CONFIRM_ACTION.value,
            "private_metadata": metadata, "state": state}
    answer = bot.interactive({"type": "view_submission", "user": {"id": DEV}, "view": view})
    assert answer.status == 200
    assert answer.json()["response_action"] in ("errors", "update")
    assert "Abort needs a reason" in json.dumps(answer.json())


def test_a_reason_that_is_not_plain_text_is_refused_next_to_it(
    bot: RunningBot, status: StatusMessage
) -> None:
    metadata = json.dumps({"target": f"abort:{status.release_id}:0", "channel": CHANNEL,
                           "ts": status.ts})
    history = len(events(bot))
    for reason in ["lone \ud800 surrogate", "nul \x00 character", "x" * 2001]:
        answer = bot.submit(DEV, CallbackId.CONFIRM_ACTION.value, metadata,
                            reason_values(reason))
        assert answer.json() == {"response_action": "errors", "errors": {
            BlockId.REASON.value: "Write the reason as plain text of at most 2000 characters."}}
    assert len(events(bot)) == history


def test_events_of_the_wrong_shape_are_acknowledged_and_ignored(
    bot: RunningBot, status: StatusMessage
) -> None:
    since = len(bot.fake.calls)
    for event in [
        {"type": "subteam_members_changed", "subteam_id": "S0APPR", "added_users": 5},
        {"type": "subteam_members_changed", "subteam_id": "S0APPR", "removed_users": [1]},
        {"type": "subteam_updated", "subteam": {"id": "S0APPR", "users": 5}},
        {"type": "subteam_updated", "subteam": {"id": "S0APPR", "user_count": "many"}},
        {"type": "subteam_updated", "subteam": "S0APPR"},
        {"type": "app_home_opened", "tab": "messages", "user": OUTSIDER},
        {"type": "reaction_added", "user": OUTSIDER},
    ]:
        assert bot.event(event).status in (200, 404), event
    assert bot.fake.calls[since:] == []


def test_a_body_slack_sends_for_nobody_gets_a_4xx_and_no_reply(bot: RunningBot) -> None:
    body = urllib.parse.urlencode({"payload": json.dumps({"type": "shortcut",
                                                          "callback_id": "x"})})
    assert bot.post(body, "application/x-www-form-urlencoded").status == 404
    assert bot.post(json.dumps({"type": "x"}), "application/json").status == 404
