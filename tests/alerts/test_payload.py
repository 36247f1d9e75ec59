"""Reading Alertmanager's webhook body: the alerts that name a flag, or one sentence why not."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release_bot.bot.alerts.kill_switch import reason
from release_bot.bot.alerts.payload import FiringAlert, Malformed, firing_alerts
from release_bot.core.models import Action
from tests.support.alertmanager import alert, webhook


def test_firing_alerts_with_the_flag_label_are_read_in_order() -> None:
    body = webhook(
        alert("HighErrorRate", "new_checkout", summary="5% of checkouts fail"),
        alert("Unrelated"),
        alert("Resolved", "new_checkout", status="resolved"),
        alert("LatencyBurn", "search_v2", action="abort"),
    )
    assert firing_alerts(body) == [
        FiringAlert("HighErrorRate", "new_checkout", Action.PAUSE, "5% of checkouts fail"),
        FiringAlert("LatencyBurn", "search_v2", Action.ABORT, ""),
    ]


def test_an_unknown_action_label_pauses_and_the_reason_says_so() -> None:
    [read] = firing_alerts(webhook(alert("Burn", "f", action="rollback", summary="bad")))
    assert read.action is Action.PAUSE
    assert reason(read).plain == ("Alertmanager alert Burn is firing: bad (release_bot_action "
                            "'rollback' is neither pause nor abort, so the release is paused)")


def test_the_reason_names_the_alert_and_its_summary_on_one_line() -> None:
    [read] = firing_alerts(webhook(alert("HighErrorRate", "f", action=" Abort ",
                                         summary="errors\nat 5%")))
    assert read.action is Action.ABORT
    assert reason(read).plain == "Alertmanager alert HighErrorRate is firing: errors\\nat 5%"


@pytest.mark.parametrize(("body", "said"), [
    (b"{not json", "The body is not JSON"),
    (b"\xff\xfe", "The body is not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "The body is nested too deeply"),
    (b"[]", "webhook version 4: body — Input should be a JSON object."),
    (json.dumps({"version": "4", "alerts": [[]]}).encode(),
     "alerts[0] — Input should be a JSON object."),
    (json.dumps({"version": "3", "alerts": []}).encode(), "version — "),
    (json.dumps({"version": "4"}).encode(), "alerts — Field required"),
    (json.dumps({"version": "4", "alerts": [{"status": "firing", "labels": {"a": 1}}]}).encode(),
     "alerts[0].labels.a — "),
    (json.dumps({"version": "4", "alerts": [{"status": "pending", "labels": {}}]}).encode(),
     "alerts[0].status — "),
])
def test_a_body_that_is_not_the_webhook_is_one_sentence(body: bytes, said: str) -> None:
    with pytest.raises(Malformed) as raised:
        firing_alerts(body)
    message = str(raised.value)
    assert said in message
    assert "\n" not in message and message.endswith(".")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["version", "alerts", "status", "labels", "annotations", "summary",
                         "alertname", "release_bot_flag", "release_bot_action", "x"]),
        inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), _JSON.map(lambda v: json.dumps(v).encode()),
                 st.builds(lambda alerts: json.dumps({"version": "4", "alerts": alerts})
                           .encode(), st.lists(_JSON, max_size=3))))
def test_any_body_is_read_or_refused_in_one_sentence(body: bytes) -> None:
    try:
        read = firing_alerts(body)
    except Malformed as refused:
        assert "\n" not in str(refused) and str(refused).endswith(".")
        return
    assert all(alert.flag_key.strip() and alert.action in (Action.PAUSE, Action.ABORT)
               for alert in read)
