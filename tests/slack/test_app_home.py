"""App Home: opening the tab publishes what waits on this person's approval, then what runs."""

from __future__ import annotations

from typing import Any

from release_bot.bot.slack.ids import ActionId
from release_bot.core.models import ReleaseState
from tests.support.flows import (
    FLAG,
    StatusMessage,
    start,
    texts,
    to_approval,
    wait_for_new,
    wait_state,
)
from tests.support.harness import ALICE, CHANNEL, DEV, RunningBot


def open_home(bot: RunningBot, user: str) -> dict[str, Any]:
    """Open the App Home tab as `user`; return the view the bot published."""
    since = len(bot.fake.calls)
    answer = bot.event(
        {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    )
    assert answer.status == 200
    [published] = wait_for_new(bot.fake, "views.publish", since)
    assert published.params["user_id"] == user
    view: dict[str, Any] = published.params["view"]
    assert view["type"] == "home"
    return view


def two_releases(bot: RunningBot) -> tuple[StatusMessage, StatusMessage]:
    """new_checkout waits for approval of Production canary; dark_mode bakes Staging."""
    waiting = start(bot)
    to_approval(bot, waiting)
    baking = start(bot, flag="dark_mode")
    return waiting, baking


def test_home_lists_what_waits_on_the_approver_first(bot: RunningBot) -> None:
    waiting, baking = two_releases(bot)

    view = open_home(bot, ALICE)

    shown = texts(view["blocks"])
    assert shown.index("*Waiting for your approval*") < shown.index("*Running now* (2)")
    mine = shown[shown.index("*Waiting for your approval*") : shown.index("*Running now*")]
    assert f"*#{waiting.release_id}* `{FLAG}`" in mine
    assert "*Production canary*" in mine
    assert "dark_mode" not in mine
    approve = [
        b["accessory"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == ActionId.APPROVE.value
    ]
    assert [a["value"] for a in approve] == [f"approve:{waiting.release_id}:1"]
    running = shown[shown.index("*Running now*") :]
    assert f"*#{baking.release_id}* `dark_mode`" in running
    assert f"*#{waiting.release_id}* `{FLAG}`" in running


def test_home_of_someone_who_cannot_approve(bot: RunningBot) -> None:
    two_releases(bot)

    view = open_home(bot, DEV)  # started both releases, and is no approver anyway

    shown = texts(view["blocks"])
    assert "Nothing is waiting for your approval." in shown
    assert "*Running now* (2)" in shown
    assert not [
        b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == ActionId.APPROVE
    ]


def test_approve_from_the_home_tab(bot: RunningBot) -> None:
    waiting, _ = two_releases(bot)
    view = open_home(bot, ALICE)
    [value] = [
        b["accessory"]["value"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == ActionId.APPROVE.value
    ]

    # A click on the Home tab comes from a view: no channel, no message, no response_url.
    answer = bot.interactive(
        {
            "type": "block_actions",
            "user": {"id": ALICE},
            "trigger_id": "trigger-home",
            "container": {"type": "view", "view_id": "V0HOME"},
            "view": {"id": "V0HOME", "type": "home"},
            "actions": [{"action_id": ActionId.APPROVE.value, "type": "button", "value": value}],
        }
    )

    assert answer.status == 200
    release = wait_state(bot, waiting.release_id, ReleaseState.BAKING, 1)
    assert release.approvers(1) == (ALICE,)
    update = bot.fake.calls_to("chat.update")[-1]
    assert (update.params["channel"], update.params["ts"]) == (CHANNEL, waiting.ts)
