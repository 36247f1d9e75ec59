"""The fake Slack Web API answers a real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import threading

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tests.support.fake_slack import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack, Group


def test_auth_test_names_the_bot_and_the_token_is_recorded(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    answer = slack_client.auth_test()
    assert (answer["user_id"], answer["team_id"]) == (BOT_USER_ID, TEAM_ID)
    assert fake_slack.calls[0].headers["authorization"] == f"Bearer {BOT_TOKEN}"


def test_calls_without_a_token_are_refused(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=fake_slack.base_url).auth_test()
    assert raised.value.response["error"] == "not_authed"


def test_posted_messages_get_fresh_increasing_ts_and_their_params_are_recorded(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = slack_client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    second = slack_client.chat_postMessage(channel="C1", text="again")
    assert first["channel"] == "C1" and first["message"]["blocks"] == blocks
    assert float(first["ts"]) < float(second["ts"])
    assert fake_slack.calls_to("chat.postMessage")[0].params["blocks"] == blocks


def test_messages_to_a_user_land_in_a_dm(slack_client: WebClient) -> None:
    dm = slack_client.conversations_open(users="U0ALICE")["channel"]["id"]
    assert dm.startswith("D")
    assert slack_client.chat_postMessage(channel="U0ALICE", text="hi")["channel"] == dm


def test_users_info_uses_query_params_and_overrides(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.set_user("U0ALICE", tz="Europe/Paris")
    user = slack_client.users_info(user="U0ALICE")["user"]
    assert (user["id"], user["tz"]) == ("U0ALICE", "Europe/Paris")
    assert fake_slack.calls_to("users.info")[0].params == {"user": "U0ALICE"}


def test_views_answer_with_an_id(slack_client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Abort"}, "blocks": []}
    opened = slack_client.views_open(trigger_id="1.2.abc", view=view)["view"]
    updated = slack_client.views_update(view_id=opened["id"], view=view)["view"]
    assert opened["id"] == updated["id"] and opened["title"] == view["title"]


def test_user_groups_and_their_members() -> None:
    with FakeSlack([Group("S0APP", "approvers", ["U0ALICE"])]) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
        groups = client.usergroups_list(include_users=True)["usergroups"]
        assert [(g["id"], g["handle"], g["users"]) for g in groups] == [
            ("S0APP", "approvers", ["U0ALICE"])
        ]
        assert client.usergroups_users_list(usergroup="S0APP")["users"] == ["U0ALICE"]
        with pytest.raises(SlackApiError) as raised:
            client.usergroups_users_list(usergroup="S0NOPE")
        assert raised.value.response["error"] == "no_such_subteam"


def test_scripted_failures_happen_the_given_number_of_times(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.fail("usergroups.list", "missing_scope", times=2, needed="usergroups:read")
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            slack_client.usergroups_list()
        assert raised.value.response["needed"] == "usergroups:read"
    assert slack_client.usergroups_list()["ok"]


def test_response_url_posts_are_recorded(fake_slack: FakeSlack) -> None:
    response = WebhookClient(fake_slack.response_url("abc")).send(
        text="Done", replace_original=True
    )
    assert response.status_code == 200
    (call,) = fake_slack.calls_to("response_url")
    assert call.path == "/response/abc"
    assert call.params == {"text": "Done", "replace_original": True}


def test_wait_for_blocks_until_calls_from_other_threads_arrive(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    def post_three() -> None:
        for n in range(3):
            slack_client.chat_postMessage(channel="C1", text=str(n))

    threading.Thread(target=post_three).start()
    calls = fake_slack.wait_for("chat.postMessage", count=3)
    assert [c.params["text"] for c in calls] == ["0", "1", "2"]
    with pytest.raises(AssertionError, match="chat.update"):
        fake_slack.wait_for("chat.update", timeout=0.05)


def test_delay_holds_the_answer_back(fake_slack: FakeSlack) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url, timeout=1)
    client.timeout = 0.2  # type: ignore[assignment]  # urllib accepts float seconds
    fake_slack.delay("users.info", 5)
    with pytest.raises(TimeoutError):
        client.users_info(user="U1")
    fake_slack.delay("users.info", 0)
    assert client.users_info(user="U1")["ok"]


def test_reset_forgets_calls_and_scripts(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    fake_slack.fail("auth.test")
    fake_slack.reset()
    assert fake_slack.calls == []
    assert slack_client.auth_test()["ok"]


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_enforced_limits_allow_a_short_burst_per_channel_then_one_a_second() -> None:
    clock = Clock()
    with FakeSlack(enforce_limits=True, clock=clock) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url, retry_handlers=[])
        for _ in range(3):
            client.chat_postMessage(channel="C1", text="hi")
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C1", text="one too many")
        assert raised.value.response.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "1"
        assert client.chat_postMessage(channel="C2", text="another channel")["ok"]
        clock.now += 1
        assert client.chat_postMessage(channel="C1", text="a second later")["ok"]


def test_enforced_limits_follow_the_method_tier() -> None:
    with FakeSlack(enforce_limits=True, clock=Clock()) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url, retry_handlers=[])
        for _ in range(20):  # tier 2: 20 a minute
            client.usergroups_list()
        with pytest.raises(SlackApiError) as raised:
            client.usergroups_list()
        assert raised.value.response.headers["Retry-After"] == "3"
