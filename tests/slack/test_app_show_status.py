"""Show status, in `/release list` and on the Home tab: the release's status in a modal, with a
link to its status message (chat.getPermalink), where people act on it."""

from __future__ import annotations

from typing import Any

from release_bot.bot.slack.ids import ActionId
from tests.support.flows import (
    StatusMessage,
    api_calls,
    ephemerals,
    events,
    start,
    texts,
    to_approval,
    wait_for_new,
)
from tests.support.harness import ALICE, DEV, RunningBot


def show_status_buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """Release line → value of its Show status button."""
    return {
        b["text"]["text"]: b["accessory"]["value"]
        for b in blocks
        if b.get("accessory", {}).get("action_id") == ActionId.OPEN_STATUS.value
    }


def listed_button(bot: RunningBot, status: StatusMessage) -> str:
    """The value of the release's Show status button in `/release list`."""
    since = len(bot.fake.calls)
    bot.slash(DEV, "list")
    [listing] = wait_for_new(bot.fake, "response_url", since)
    [value] = [v for line, v in show_status_buttons(listing.params["blocks"]).items()
               if line.startswith(f"*#{status.release_id}*")]
    return value


def click_on_home(bot: RunningBot, user: str, action: ActionId, value: str) -> None:
    """A click on the Home tab: it comes from a view, with no channel, message or response_url."""
    bot.interactive({
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": "trigger-home",
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {"id": "V0HOME", "type": "home"},
        "actions": [{"action_id": action.value, "type": "button", "value": value}],
    })


def test_show_status_from_the_list_opens_the_status_with_a_link(bot: RunningBot) -> None:
    status = start(bot)
    value = listed_button(bot, status)
    since, history = len(bot.fake.calls), len(events(bot))

    answer = bot.click(DEV, ActionId.OPEN_STATUS.value, value)

    assert (answer.status, answer.body) == (200, b"")
    [opened] = wait_for_new(bot.fake, "views.open", since)
    [asked] = [c for c in api_calls(bot.fake, since) if c.method == "chat.getPermalink"]
    assert (asked.params["channel"], asked.params["message_ts"]) == (status.channel, status.ts)
    view = opened.params["view"]
    assert (view["type"], view["title"]["text"]) == ("modal", f"Release #{status.release_id}")
    shown = texts(view["blocks"])
    assert "*Baking* phase *Staging*" in shown
    link = f"https://fake.slack.com/archives/{status.channel}/p{status.ts.replace('.', '')}"
    assert f"<{link}|Open the status message> to act on it." in shown
    assert not [b for b in view["blocks"] if b["type"] == "actions"]  # no stale controls
    assert ephemerals(bot.fake, since) == [] and len(events(bot)) == history


def test_show_status_from_the_home_tab(bot: RunningBot) -> None:
    status = start(bot)
    to_approval(bot, status)
    since = len(bot.fake.calls)

    click_on_home(bot, ALICE, ActionId.OPEN_STATUS, str(status.release_id))

    [opened] = wait_for_new(bot.fake, "views.open", since)
    assert opened.params["trigger_id"] == "trigger-home"
    assert "*Waiting for approval* of phase *Production canary*" in texts(
        opened.params["view"]["blocks"])


def test_show_status_of_a_release_that_is_gone_is_explained(bot: RunningBot) -> None:
    start(bot)
    since = len(bot.fake.calls)

    bot.click(DEV, ActionId.OPEN_STATUS.value, "999")

    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert reply.params["response_type"] == "ephemeral"
    assert "There is no release #999" in reply.params["text"]
    assert bot.fake.calls_to("views.open") == []


def test_a_refusal_on_the_home_tab_is_told_in_a_direct_message(bot: RunningBot) -> None:
    status = start(bot)
    since = len(bot.fake.calls)

    # DEV started the release and is no approver; the Home tab has no response_url to answer by.
    click_on_home(bot, DEV, ActionId.APPROVE, f"approve:{status.release_id}:0")

    [told] = wait_for_new(bot.fake, "chat.postMessage", since)
    assert told.params["channel"] == DEV
    assert "*Staging*" in told.params["text"]
