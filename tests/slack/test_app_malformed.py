"""Malformed requests get a clean answer — 200 with a private explanation, or a 4xx — never a
500, and change nothing."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId
from release_bot.core.models import ReleaseState
from tests.support.flows import StatusMessage, events, reason_values, start, texts, wait_for_new
from tests.support.harness import CHANNEL, DEV, RunningBot


@pytest.fixture
def status(bot: RunningBot) -> Iterator[StatusMessage]:
    """A baking release; afterwards, check it did not move and the history did not grow."""
    status = start(bot)
    history = len(events(bot))
    yield status
    assert bot.service.release(status.release_id).state is ReleaseState.BAKING
    assert len(events(bot)) == history


def explained(bot: RunningBot, since: int) -> str:
    """The one private reply a request got through its response_url."""
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert reply.params["response_type"] == "ephemeral"
    assert [c.method for c in bot.fake.calls[since:]] == ["response_url"]
    text: str = reply.params["text"]
    return text


BAD_VALUES = [
    "garbage",
    "approve:1",
    "approve:1:1:1",
    "approve:one:1",
    "launch:1:1",
    "",
    "x" * 2000,
]


@pytest.mark.parametrize("control", ["approve", "overflow"])
def test_unreadable_control_value(bot: RunningBot, status: StatusMessage, control: str) -> None:
    overflow = control == "overflow"
    action = ActionId.MORE if overflow else ActionId.APPROVE
    for value in BAD_VALUES:
        since = len(bot.fake.calls)

        answer = bot.click(DEV, action.value, value, message_ts=status.ts, overflow=overflow)

        assert answer.status == 200, value
        assert "could not be read" in explained(bot, since), value


def test_unknown_release(bot: RunningBot, status: StatusMessage) -> None:
    for action, value in [(ActionId.APPROVE, "approve:999:1"), (ActionId.MORE, "pause:999:0")]:
        since = len(bot.fake.calls)

        answer = bot.click(
            DEV, action.value, value, message_ts=status.ts, overflow=action is ActionId.MORE
        )

        assert answer.status == 200
        assert "There is no release #999" in explained(bot, since)


def click_payload(status: StatusMessage, bot: RunningBot, **changes: Any) -> dict[str, Any]:
    """A well-formed Approve click on a phase that is not waiting, with keys replaced/removed."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": DEV},
        "trigger_id": "trigger-1",
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": status.ts},
        "channel": {"id": CHANNEL},
        "response_url": bot.fake.response_url("click"),
        "actions": [
            {
                "action_id": ActionId.MORE.value,
                "block_id": BlockId.CONTROLS.value,
                "type": "overflow",
                "selected_option": {"value": f"pause:{status.release_id}:0"},
            }
        ],
    }
    for key, value in changes.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    return payload


def test_clicks_missing_fields(bot: RunningBot, status: StatusMessage) -> None:
    since = len(bot.fake.calls)
    answer = bot.interactive(click_payload(status, bot, actions=None))
    assert 400 <= answer.status < 500

    answer = bot.interactive(click_payload(status, bot, user=None))
    assert answer.status == 200
    assert "names no user" in explained(bot, since)

    since = len(bot.fake.calls)
    answer = bot.interactive(click_payload(status, bot, trigger_id=None))
    assert answer.status == 200
    assert "did not open the confirmation" in explained(bot, since)
    assert bot.fake.calls_to("views.open") == []


def test_confirmation_slack_would_not_open_is_explained(
    bot: RunningBot, status: StatusMessage
) -> None:
    bot.fake.fail("views.open", "expired_trigger_id")
    since = len(bot.fake.calls)
    bot.click(DEV, ActionId.MORE.value, f"pause:{status.release_id}:0", overflow=True)
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert "did not open the confirmation (expired_trigger_id)" in reply.params["text"]


def test_confirmation_with_unreadable_metadata_goes_back_to_the_form(
    bot: RunningBot, status: StatusMessage
) -> None:
    since = len(bot.fake.calls)
    pause = f"pause:{status.release_id}:0"
    bad = ["", "not json", "[]", json.dumps({"target": "pause:1"}), json.dumps({"ts": "1.1"}),
           "[" * 5000, json.dumps({"target": pause, "channel": "\ud800"}),
           json.dumps({"target": pause, "ts": "<!channel>"})]
    for metadata in bad:
        abort_form = bot.submit(DEV, CallbackId.CONFIRM_ACTION.value, metadata,
                                reason_values("errors spiked"))
        pause_form = bot.submit(DEV, CallbackId.CONFIRM_ACTION.value, metadata, {})
        assert (abort_form.status, pause_form.status) == (200, 200), metadata
        assert "could not be read" in abort_form.json()["errors"][BlockId.REASON.value]
        assert pause_form.json()["response_action"] == "update", metadata
        assert "could not be read" in texts(pause_form.json()["view"]["blocks"])
    bot.slash(DEV, "help", reply_to="barrier")
    wait_for_new(bot.fake, "response_url", since)
    assert [c.method for c in bot.fake.calls[since:]] == ["response_url"]


def test_events_missing_fields_are_acknowledged(bot: RunningBot, status: StatusMessage) -> None:
    since = len(bot.fake.calls)
    for event in [
        {"type": "subteam_members_changed", "added_users": ["U0OUT"]},
        {"type": "subteam_updated"},
        {"type": "subteam_updated", "subteam": {"handle": "approvers"}},
        {"type": "app_home_opened", "tab": "home"},
    ]:
        assert bot.event(event).status == 200, event
    bot.slash(DEV, "help", reply_to="barrier")
    wait_for_new(bot.fake, "response_url", since)
    assert [c.method for c in bot.fake.calls[since:]] == ["response_url"]


def test_body_slack_never_sends_is_a_4xx(bot: RunningBot, status: StatusMessage) -> None:
    since = len(bot.fake.calls)
    for body, content_type in [
        ("", "application/x-www-form-urlencoded"),
        ("a=b&c", "application/x-www-form-urlencoded"),
        ("{}", "application/json"),
        (urllib.parse.urlencode({"payload": "{}"}), "application/x-www-form-urlencoded"),
    ]:
        assert 400 <= bot.post(body, content_type).status < 500, body
    assert bot.fake.calls[since:] == []
