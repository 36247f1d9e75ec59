"""`POST /alerts/alertmanager` over HTTP: the bearer token, the body, and what alerts do to
releases — paused, aborted, or left alone with a 200."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from release_bot.core.models import Action, Command, ReleaseState
from release_bot.storage import Database
from tests.support.alertmanager import alert, webhook
from tests.support.alerts_harness import TOKEN, AlertingBot

PATH = "/alerts/alertmanager"


@pytest.fixture
def bot(database: Database) -> Iterator[AlertingBot]:
    running = AlertingBot(database, TOKEN)
    yield running
    running.close()


@pytest.fixture
def bot_without_token(database: Database) -> Iterator[AlertingBot]:
    running = AlertingBot(database, None)
    yield running
    running.close()


def post(base_url: str, body: bytes, authorization: str | None = f"Bearer {TOKEN}",
         ) -> tuple[int, str]:
    """POST a body to the webhook; (status, body text)."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(base_url + PATH, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def results(text: str) -> list[dict[str, Any]]:
    return list(json.loads(text)["results"])


def test_a_firing_alert_pauses_its_flags_release_as_the_guardrail(bot: AlertingBot) -> None:
    rid = bot.start("new_checkout")
    status, text = post(bot.base_url, webhook(
        alert("CheckoutErrors", "new_checkout", summary="errors above 1% for 2m")))
    assert status == 200
    assert results(text) == [{"alert": "CheckoutErrors", "flag": "new_checkout",
                              "action": "pause", "outcome": f"Release #{rid} paused."}]
    assert bot.service.release(rid).state is ReleaseState.PAUSED
    [event] = [e for e in bot.service.history("new_checkout") if e.action == "pause"]
    assert event.actor == "guardrail"
    assert event.reason == "Alertmanager alert CheckoutErrors is firing: errors above 1% for 2m"


def test_an_abort_alert_aborts_and_everything_serves_the_old_value(bot: AlertingBot) -> None:
    rid = bot.start("new_checkout")
    assert bot.service.evaluate("new_checkout", "staging", "u1", {}) is True
    status, text = post(bot.base_url, webhook(
        alert("CheckoutDown", "new_checkout", action="abort", summary="checkout is down")))
    assert status == 200, text
    assert bot.service.release(rid).state is ReleaseState.ABORTED
    assert bot.service.evaluate("new_checkout", "staging", "u1", {}) is False
    [event] = [e for e in bot.service.history("new_checkout") if e.action == "abort"]
    assert (event.actor, event.reason) == (
        "guardrail", "Alertmanager alert CheckoutDown is firing: checkout is down")


def test_alerts_that_stop_nothing_change_nothing_and_get_200(bot: AlertingBot) -> None:
    rid = bot.start("new_checkout")
    bot.service.create_flag("idle", bot.kind, "standard", False, "U0DEV", bot.clock())
    before = bot.service.history("new_checkout")
    status, text = post(bot.base_url, webhook(
        alert("Resolved", "new_checkout", status="resolved"),
        alert("NoLabel"),
        alert("Idle", "idle"),
        alert("Unknown", "no_such_flag"),
        alert("Odd", "not a\nflag key"),
    ))
    assert status == 200
    assert [r["outcome"] for r in results(text)] == [
        "idle has no active release: nothing to stop.",
        "There is no flag no_such_flag.",
        "'not a\\nflag key' is not a valid flag key: use letters, digits, '_', '.' or '-'.",
    ]
    assert bot.service.release(rid).state is ReleaseState.BAKING
    assert bot.service.history("new_checkout") == before


def test_a_release_waiting_for_approval_is_not_paused_but_can_be_aborted(
        bot: AlertingBot) -> None:
    rid = bot.start("new_checkout")
    bot.service.act(Command(rid, Action.SKIP, "U0DEV"), bot.clock())
    assert bot.service.release(rid).state is ReleaseState.AWAITING_APPROVAL
    status, text = post(bot.base_url, webhook(alert("A", "new_checkout")))
    assert status == 200
    assert results(text)[0]["outcome"] == (
        f"Release #{rid} waits for an approval, so no bake runs to pause; abort it to take its "
        "live phases down.")
    assert bot.service.release(rid).state is ReleaseState.AWAITING_APPROVAL
    assert post(bot.base_url, webhook(alert("A", "new_checkout", action="abort")))[0] == 200
    assert bot.service.release(rid).state is ReleaseState.ABORTED


def test_a_paused_release_stays_paused(bot: AlertingBot) -> None:
    rid = bot.start("new_checkout")
    body = webhook(alert("CheckoutErrors", "new_checkout"))
    assert post(bot.base_url, body)[0] == 200
    status, text = post(bot.base_url, body)
    assert status == 200
    assert results(text)[0]["outcome"] == f"Release #{rid} is already paused."
    assert [e.action for e in bot.service.history("new_checkout")].count("pause") == 1


@pytest.mark.parametrize("authorization", [
    None, "", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer", f"Bearer {TOKEN[:-1]}",
    f"{TOKEN}",
])
def test_without_the_bearer_token_nothing_happens(bot: AlertingBot,
                                                  authorization: str | None) -> None:
    rid = bot.start("new_checkout")
    status, text = post(bot.base_url, webhook(alert("A", "new_checkout", action="abort")),
                        authorization)
    assert status == 401
    assert text.strip() == ("The request does not carry the bearer token: set Alertmanager's "
                            "http_config.authorization.credentials to RELEASE_BOT_ALERT_TOKEN.")
    assert bot.service.release(rid).state is ReleaseState.BAKING


def test_the_scheme_is_read_in_any_case(bot: AlertingBot) -> None:
    rid = bot.start("new_checkout")
    assert post(bot.base_url, webhook(alert("A", "new_checkout")), f"bearer {TOKEN}")[0] == 200
    assert bot.service.release(rid).state is ReleaseState.PAUSED


def test_with_no_token_set_the_webhook_is_off(bot_without_token: AlertingBot) -> None:
    bot = bot_without_token
    rid = bot.start("new_checkout")
    for authorization in (None, "Bearer ", "Bearer anything"):
        status, text = post(bot.base_url, webhook(alert("A", "new_checkout")), authorization)
        assert status == 403
        assert text.startswith("The Alertmanager webhook is off: set RELEASE_BOT_ALERT_TOKEN")
    assert bot.service.release(rid).state is ReleaseState.BAKING


@pytest.mark.parametrize(("body", "said"), [
    (b"", "The body is not JSON"),
    (b'{"version": "4", "alerts": {}}', "alerts — Input should be a valid list."),
    (b'{"version": "4", "alerts": [{"labels": {}}]}', "alerts[0].status — Field required."),
])
def test_a_malformed_body_is_400_with_one_sentence(bot: AlertingBot, body: bytes,
                                                   said: str) -> None:
    rid = bot.start("new_checkout")
    status, text = post(bot.base_url, body)
    assert status == 400
    assert said in text and text.count("\n") == 1
    assert bot.service.release(rid).state is ReleaseState.BAKING


def test_a_body_over_the_limit_is_413_before_it_is_read(bot: AlertingBot) -> None:
    connection = http.client.HTTPConnection(bot.base_url.removeprefix("http://"), timeout=10)
    connection.putrequest("POST", PATH)
    connection.putheader("Authorization", f"Bearer {TOKEN}")
    connection.putheader("Content-Length", str(4 * 1024 * 1024 + 1))
    connection.endheaders()  # and not one byte of the body: the answer comes all the same
    answer = connection.getresponse()
    assert answer.status == 413
    assert answer.read().decode().strip() == ("The body is larger than 4 MiB: send fewer "
                                              "alerts at once.")
    connection.close()
