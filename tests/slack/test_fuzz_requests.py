"""Fuzz: signed but hostile Slack requests, sent over HTTP to the real app against the fake Slack.

Properties, for every generated request: an answer below 500 within Slack's 3 seconds; no ERROR
and no traceback in the log; the person who typed or clicked gets a clear reply (not the
"something went wrong" sentence); and the database is as it was, but for the refused and denied
attempts the history keeps. Each property prints how many inputs it saw.
"""

from __future__ import annotations

import itertools
import logging
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release_bot.bot.slack.errors import FAULT
from release_bot.core.models import Event, Outcome
from tests.support import slack_fuzz
from tests.support.fake_slack import Call
from tests.support.flows import FLAG, start
from tests.support.harness import Response, RunningBot

EXAMPLES = 100  # per property: enough to find what an earlier fuzz found, in seconds
SLACK_TIMEOUT = 3.0  # seconds Slack waits for an answer
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass
class Fuzz:
    """The running bot with one baking release, and what the properties check after a request."""

    bot: RunningBot
    caplog: pytest.LogCaptureFixture
    seen: int = 0
    people: Iterator[int] = field(default_factory=itertools.count)

    def person(self) -> str:
        """A user id nobody has used yet (and in no group)."""
        return f"U0FUZZ{next(self.people)}"

    def stored(self) -> tuple[list[Any], list[Event]]:
        """What the database holds: releases, flags and versions; and the history."""
        _, versions, _ = self.bot.service.flag(FLAG)
        kept = [self.bot.service.releases(), self.bot.service.flags(), versions]
        return kept, list(self.bot.service.history(FLAG))

    def check(self, send: Callable[[], Response],
              replied: Callable[[Call], bool] | None) -> Response:
        """Send; check the answer, the reply `replied` recognises (if any, and unless the answer
        itself replies, as to a form, or refuses the request as malformed), log and database."""
        (kept, history), since = self.stored(), len(self.bot.fake.calls)
        logged = len(self.caplog.records)
        answer = send()
        assert answer.status < 500, answer.body
        assert b"Traceback" not in answer.body
        if replied is not None and answer.status == 200 and b"response_action" not in answer.body:
            self.bot.wait_until(lambda: any(map(replied, self.bot.fake.calls[since:])))
            for call in filter(replied, self.bot.fake.calls[since:]):
                text = str(call.params.get("text", ""))
                assert text != FAULT and "Traceback" not in text, text
        bad = [r for r in self.caplog.records[logged:] if r.levelno >= logging.ERROR or r.exc_info]
        assert not bad, [r.getMessage() for r in bad]
        kept_now, history_now = self.stored()
        assert kept_now == kept
        assert history_now[: len(history)] == history
        assert all(e.outcome is not Outcome.OK for e in history_now[len(history):])
        self.seen += 1
        return answer


def reply_to(user: str, tag: str) -> Callable[[Call], bool]:
    """Recognises a reply to `user`: via the response_url `tag`, ephemeral, DM or a modal."""

    def replied(call: Call) -> bool:
        return (
            (call.method == "response_url" and call.path == f"/response/{tag}")
            or (call.method == "chat.postEphemeral" and call.params.get("user") == user)
            or (call.method == "chat.postMessage" and call.params.get("channel") == user)
            or (call.method == "views.open" and call.params.get("trigger_id") == tag)
        )

    return replied


@pytest.fixture
def fuzz(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> Fuzz:
    """A baking release of FLAG, nothing else; the log captured from INFO up."""
    caplog.set_level(logging.INFO)
    start(bot)
    return Fuzz(bot, caplog)


def fuzzed(fuzz: Fuzz, what: str, example: Callable[[st.DataObject], None]) -> None:
    """Run `example` on EXAMPLES generated inputs; print how many it saw, and check them all."""
    FUZZ(given(data=st.data())(example))()
    print(f"\n{what}: {fuzz.seen} generated inputs")
    assert fuzz.seen >= EXAMPLES


def test_slash_commands(fuzz: Fuzz) -> None:
    def typed(data: st.DataObject) -> None:
        user, text = fuzz.person(), data.draw(slack_fuzz.slash_texts())
        tag = f"slash-{user}"
        fuzz.check(lambda: fuzz.bot.slash(user, text, reply_to=tag, trigger_id=tag,
                                          timeout=SLACK_TIMEOUT), reply_to(user, tag))

    fuzzed(fuzz, "slash commands", typed)


def test_clicks(fuzz: Fuzz) -> None:
    def clicked(data: st.DataObject) -> None:
        user = fuzz.person()
        tag = f"click-{user}"
        payload = data.draw(slack_fuzz.clicks(user, fuzz.bot.fake.response_url(tag), tag))
        answer = fuzz.check(lambda: fuzz.bot.interactive(payload, timeout=SLACK_TIMEOUT),
                            reply_to(user, tag))
        assert answer.status == 200

    fuzzed(fuzz, "block_actions clicks", clicked)


def test_modal_submissions(fuzz: Fuzz) -> None:
    def submitted(data: st.DataObject) -> None:
        user = fuzz.person()
        payload = data.draw(slack_fuzz.submissions(user))
        answer = fuzz.check(lambda: fuzz.bot.interactive(payload, timeout=SLACK_TIMEOUT),
                            reply_to(user, "-"))
        assert answer.status == 200

    fuzzed(fuzz, "view_submission forms", submitted)


def test_events(fuzz: Fuzz) -> None:
    def delivered(data: st.DataObject) -> None:
        user = fuzz.person()
        event = data.draw(slack_fuzz.events(user))

        def published(call: Call) -> bool:  # the Home tab, for the person who opened it
            return call.method == "views.publish" and call.params.get("user_id") == user

        home = event["type"] == "app_home_opened" and event.get("tab") == "home"
        fuzz.check(lambda: fuzz.bot.event(event, timeout=SLACK_TIMEOUT),
                   published if home else None)

    fuzzed(fuzz, "events", delivered)


def test_bodies_of_any_shape(fuzz: Fuzz) -> None:
    def posted(data: st.DataObject) -> None:
        body = data.draw(slack_fuzz.envelopes())
        if data.draw(st.booleans()):
            sent = urllib.parse.urlencode({"payload": body})
            content_type = "application/x-www-form-urlencoded"
        else:
            sent, content_type = body, "application/json"
        fuzz.check(lambda: fuzz.bot.post(sent, content_type, timeout=SLACK_TIMEOUT), None)

    fuzzed(fuzz, "bodies of any shape", posted)
