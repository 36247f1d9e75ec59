"""Hostile requests, one of each kind an earlier fuzz found: the signature is checked before the
body is read, and a signed body Slack never sends is a 400, with no ERROR in the log."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest

from release_bot.bot.runtime import http
from release_bot.core.models import ReleaseState
from tests.support.flows import StatusMessage, start
from tests.support.harness import RunningBot


@pytest.fixture
def status(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> Iterator[StatusMessage]:
    """A baking release; afterwards it has not moved, and nothing was logged as an ERROR."""
    status = start(bot)
    yield status
    assert bot.service.release(status.release_id).state is ReleaseState.BAKING
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


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
