"""The bot's WebClient retries what Slack asks it to retry, against the fake Web API."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.slack.client import MAX_RETRIES, make_web_client
from tests.support.fake_slack import BOT_TOKEN, FakeSlack


def test_base_url_defaults_to_slack_and_works_without_a_trailing_slash(
    fake_slack: FakeSlack,
) -> None:
    assert make_web_client(BOT_TOKEN).base_url == "https://slack.com/api/"
    client = make_web_client(BOT_TOKEN, base_url=fake_slack.base_url.rstrip("/"))
    assert client.auth_test()["ok"]
    assert [c.path for c in fake_slack.calls] == ["/api/auth.test"]


def test_a_429_is_retried_no_sooner_than_retry_after(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=1)
    assert slack_client.chat_postMessage(channel="C1", text="hi")["ok"]
    limited, retried = fake_slack.calls_to("chat.postMessage")
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at - limited.at >= 1.0


def test_rate_limiting_that_outlasts_the_retries_raises(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.rate_limit("chat.update", retry_after=0, times=MAX_RETRIES + 1)
    with pytest.raises(SlackApiError) as raised:
        slack_client.chat_update(channel="C1", ts="1.2", text="hi")
    assert raised.value.response.status_code == 429
    assert len(fake_slack.calls_to("chat.update")) == MAX_RETRIES + 1


def test_a_500_is_retried(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    fake_slack.http_status("chat.postMessage", 500)
    assert slack_client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [500, 200]


def test_lasting_server_errors_raise_after_a_few_retries(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.http_status("views.publish", 503, times=MAX_RETRIES + 1)
    with pytest.raises(SlackApiError) as raised:
        slack_client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert raised.value.response.status_code == 503
    assert len(fake_slack.calls_to("views.publish")) == MAX_RETRIES + 1


def test_slack_errors_are_not_retried(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    fake_slack.fail("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError):
        slack_client.chat_postMessage(channel="C404", text="hi")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
