"""The one error path: a domain error becomes a private refusal with the release's status, an
unexpected exception one plain sentence (and a log entry with its traceback) — from the ack
phase, from middleware and from lazy listeners alike."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from slack_bolt import BoltRequest
from slack_sdk.webhook import WebhookResponse

from release_bot.bot.slack.errors import FAULT, form_answer, guarded
from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId, Target
from release_bot.bot.slack.middleware import CONTEXT_KEY
from release_bot.core.errors import InvalidInput, NotFound
from release_bot.core.models import Action
from tests.support.flows import click, start, to_approval, wait_for_new
from tests.support.harness import ALICE, CHANNEL, DEV, RunningBot
from tests.support.slack_world import World

TS = "1700000000.000100"


class Recorder:
    """Stands in for `respond` and the WebClient: keeps what the error path sent."""

    def __init__(self) -> None:
        self.said: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.said.append(kwargs)
        return WebhookResponse(url="", status_code=200, body="ok", headers={})

    def chat_update(self, **kwargs: Any) -> None:
        self.updated.append(kwargs)


def click_request(world: World, recorder: Recorder, target: Target) -> BoltRequest:
    """A click on the status message, as Bolt hands it to a lazy listener."""
    body = {
        "type": "block_actions",
        "user": {"id": ALICE},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": TS},
        "channel": {"id": CHANNEL},
        "response_url": "https://hooks.slack.test/response",
        "actions": [{"action_id": ActionId.APPROVE.value, "value": target.encode()}],
    }
    request = BoltRequest(body=body, mode="socket_mode")
    request.context.update({CONTEXT_KEY: world.ctx, "target": target, "client": recorder,
                            "respond": recorder})
    return request


def failing(error: Exception) -> Any:
    """A lazy listener that fails with `error`."""

    def handler(target: Target) -> None:
        raise error

    return guarded(handler)


def test_a_refusal_is_private_shows_the_status_and_redraws_an_out_of_date_message() -> None:
    world, recorder = World(), Recorder()
    stale = Target(Action.APPROVE, world.release_id, 0)
    run = guarded(lambda release_bot, target, user_id: release_bot.act(target, user_id))

    run(click_request(world, recorder, stale), logging.getLogger("test"))

    [said] = recorder.said
    assert said["response_type"] == "ephemeral" and said["replace_original"] is False
    assert "out of date" in said["text"]
    assert "Production canary" in str(said["blocks"])
    [redraw] = recorder.updated
    assert (redraw["channel"], redraw["ts"]) == (CHANNEL, TS)
    assert world.kicks == []


def test_an_unexpected_exception_is_logged_and_answered_with_one_sentence(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world, recorder = World(), Recorder()
    target = Target(Action.APPROVE, world.release_id, 1)

    failing(RuntimeError("database on fire"))(click_request(world, recorder, target),
                                              logging.getLogger("test"))

    assert [s["text"] for s in recorder.said] == [FAULT]
    assert "database on fire" not in str(recorder.said) and recorder.updated == []
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.exc_info is not None and "database on fire" in str(logged.exc_info[1])


def submitted(callback_id: str, *fields: BlockId) -> dict[str, Any]:
    """A view_submission of a form holding these input blocks."""
    values = {field.value: {"input": {"type": "plain_text_input", "value": "x"}}
              for field in fields}
    return {"type": "view_submission",
            "view": {"callback_id": callback_id, "state": {"values": values}}}


def test_a_form_shows_a_refusal_next_to_the_field_it_is_about() -> None:
    start_form = submitted(CallbackId.START_RELEASE, BlockId.START_FLAG, BlockId.START_VALUE)
    abort = submitted(CallbackId.CONFIRM_ACTION, BlockId.REASON)

    assert form_answer(start_form, InvalidInput("`yes` is not JSON")) == {
        "response_action": "errors", "errors": {BlockId.START_VALUE.value: "`yes` is not JSON"}}
    assert form_answer(start_form, NotFound("There is no flag `x`."))["errors"] == {
        BlockId.START_FLAG.value: "There is no flag `x`."}
    assert form_answer(abort, KeyError("boom"))["errors"] == {BlockId.REASON.value: FAULT}


def test_a_form_without_the_field_turns_into_the_sentence() -> None:
    pause = submitted(CallbackId.CONFIRM_ACTION)

    answer = form_answer(pause, NotFound("There is no release #9."))

    assert answer["response_action"] == "update"
    assert answer["view"]["blocks"][0]["text"]["text"] == "There is no release #9."


# --- through the running app ---------------------------------------------------------------


def test_a_lazy_listener_that_fails_still_acks_at_once_then_says_one_sentence(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    status = start(bot)
    release = to_approval(bot, status)

    def on_fire(*args: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.service, "act", on_fire)
    since = len(bot.fake.calls)

    answer = click(bot, ALICE, f"approve:{status.release_id}:1", status)

    assert (answer.status, answer.body) == (200, b"")
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert (reply.params["response_type"], reply.params["text"]) == ("ephemeral", FAULT)
    assert "Traceback" not in str(reply.params) and "on fire" not in str(reply.params)
    assert bot.service.release(status.release_id).state is release.state
    assert any(r.exc_info and "on fire" in str(r.exc_info[1]) for r in caplog.records)


def test_an_ack_that_fails_sends_the_form_back_with_one_sentence(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.create_flag()

    def on_fire(*args: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.service, "start_release", on_fire)
    values = {
        BlockId.START_FLAG.value: {"flag_input": {"selected_option": {"value": "new_checkout"}}},
        BlockId.START_VALUE.value: {"value_input": {"value": "true"}},
    }

    answer = bot.submit(DEV, CallbackId.START_RELEASE.value, "", values)

    assert answer.status == 200
    assert answer.json() == {"response_action": "errors",
                             "errors": {BlockId.START_FLAG.value: FAULT}}
    assert bot.service.releases() == []
