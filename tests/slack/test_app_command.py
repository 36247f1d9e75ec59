"""`/release`: help, list, status, history with its Next page button, and start (typed or form)."""

from __future__ import annotations

import contextlib
from typing import Any

from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId, InputId
from release_bot.core.errors import DomainError
from release_bot.core.models import Action, Command, Outcome, ReleaseState
from tests.support.flows import (
    FLAG,
    attempts,
    confirm,
    settle,
    start,
    status_posts,
    texts,
    wait_for_new,
    wait_state,
)
from tests.support.harness import ALICE, CHANNEL, DEV, RunningBot


def ask(bot: RunningBot, text: str, user: str = DEV) -> dict[str, Any]:
    """Run `/release text` and return the private answer it got through its response_url."""
    since = len(bot.fake.calls)
    answer = bot.slash(user, text)
    assert answer.status == 200
    assert answer.body == b""  # acknowledged at once; the answer follows via response_url
    [reply] = wait_for_new(bot.fake, "response_url", since)
    assert reply.params["response_type"] == "ephemeral"
    params: dict[str, Any] = reply.params
    return params


def test_help_and_unknown_subcommands_list_every_subcommand(bot: RunningBot) -> None:
    reply = ask(bot, "help")
    assert reply["text"].startswith("Usage: /release help")
    shown = texts(reply["blocks"])
    for usage in ("/release list", "/release status [ID|FLAG]", "/release history FLAG"):
        assert usage in shown
    assert "/release start FLAG VALUE" in shown
    assert ask(bot, "")["text"] == reply["text"]

    unknown = ask(bot, "deploy everything")
    assert unknown["text"].startswith("I don't know `/release deploy`. Usage: /release help")
    assert "/release history FLAG" in texts(unknown["blocks"])


def test_list_shows_the_active_releases(bot: RunningBot) -> None:
    assert "No release is running" in texts(ask(bot, "list")["blocks"])
    first = start(bot)
    second = start(bot, flag="dark_mode")
    third = start(bot, flag="old_banner")
    confirm(bot, DEV, f"abort:{third.release_id}:0", third, reason="not needed")
    wait_state(bot, third.release_id, ReleaseState.ABORTED)

    shown = texts(ask(bot, "list")["blocks"])

    assert "Releases running now (2)" in shown
    assert f"*#{first.release_id}* `new_checkout`" in shown
    assert f"*#{second.release_id}* `dark_mode`" in shown
    assert "old_banner" not in shown


def test_status_by_id_and_by_flag(bot: RunningBot) -> None:
    status = start(bot)
    for ref in (str(status.release_id), f"#{status.release_id}", FLAG):
        reply = ask(bot, f"status {ref}")
        assert reply["text"].startswith(f"Release #{status.release_id} of new_checkout")
        assert reply["blocks"][0]["block_id"] == BlockId.HEADER.value
        assert "*Baking* phase *Staging*" in texts(reply["blocks"])
    assert ask(bot, "status 42")["text"] == "There is no release #42."
    assert ask(bot, "status nope")["text"] == "There is no flag `nope`."


def test_history_latest_first_with_a_next_page(bot: RunningBot) -> None:
    status = start(bot)
    clock = bot.runtime.slack.ctx.clock
    # Nine refused attempts (Staging is live: nothing to approve), then a pause: 12 events.
    for _ in range(9):
        with contextlib.suppress(DomainError):
            bot.service.act(Command(status.release_id, Action.APPROVE, ALICE, 0), clock())
    bot.service.act(Command(status.release_id, Action.PAUSE, DEV, 0), clock())
    settle(bot)
    assert len(bot.service.history(FLAG)) == 12  # create, trigger, 9 refusals, pause

    first = ask(bot, f"history {FLAG}")

    shown = texts(first["blocks"])
    assert f"History of {FLAG}" in shown
    assert "Page 1 of 2 · 12 events" in shown
    assert shown.index("paused the bake timer") < shown.index("tried to *Approve* — refused")
    assert shown.count("tried to *Approve*") == 9
    assert "started a release" not in shown and "created gate" not in shown
    buttons = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (ActionId.HISTORY_NEXT.value, f"{FLAG}:2")
    ]

    since = len(bot.fake.calls)
    bot.click(DEV, ActionId.HISTORY_NEXT.value, f"{FLAG}:2", reply_to="history")
    [second] = wait_for_new(bot.fake, "response_url", since)

    assert second.path == "/response/history"
    assert second.params["replace_original"] is True
    shown = texts(second.params["blocks"])
    assert "Page 2 of 2 · 12 events" in shown
    assert shown.index("started a release") < shown.index("created gate")
    assert "paused" not in shown and "Approve" not in shown
    assert not [b for b in second.params["blocks"] if b["type"] == "actions"]


def test_start_with_flag_and_value(bot: RunningBot) -> None:
    bot.create_flag()

    reply = ask(bot, f"start {FLAG} true")

    assert reply["text"] == f"Started release #1 of `{FLAG}` — follow it in <#{CHANNEL}>."
    release = bot.service.release(1)
    assert (release.flag_key, release.triggered_by, release.state) == (
        FLAG,
        DEV,
        ReleaseState.BAKING,
    )
    _, versions, _ = bot.service.flag(FLAG)
    assert versions[release.to_version].value is True
    bot.wait_until(lambda: status_posts(bot.fake))


def test_start_with_a_value_that_is_not_json(bot: RunningBot) -> None:
    bot.create_flag()
    reply = ask(bot, f"start {FLAG} maybe")
    assert "maybe is not JSON" in reply["text"]
    assert bot.service.releases() == []


def test_start_of_a_flag_with_an_active_release_is_refused(bot: RunningBot) -> None:
    status = start(bot)

    reply = ask(bot, f"start {FLAG} true", user=ALICE)

    assert reply["text"] == (
        f"`{FLAG}` already has an active release (#{status.release_id}, baking(0)) — "
        "complete or abort it first."
    )
    assert len(bot.service.releases()) == 1
    [refused] = attempts(bot, "trigger", Outcome.REFUSED)
    assert (refused.actor, refused.rule) == (ALICE, "OneActiveReleasePerFlag")


def start_form_values(flag: str, value: str) -> dict[str, dict[str, Any]]:
    """What Slack submits from the start form."""
    return {
        BlockId.START_FLAG.value: {
            InputId.START_FLAG.value: {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": flag}, "value": flag},
            }
        },
        BlockId.START_VALUE.value: {
            InputId.START_VALUE.value: {"type": "plain_text_input", "value": value}
        },
    }


def open_start_form(bot: RunningBot, text: str) -> dict[str, Any]:
    opened = len(bot.fake.calls_to("views.open"))
    assert bot.slash(DEV, text).status == 200
    view: dict[str, Any] = bot.fake.wait_for("views.open", opened + 1)[opened].params["view"]
    assert view["callback_id"] == CallbackId.START_RELEASE.value
    return view


def test_start_without_arguments_opens_the_form_which_starts_the_release(
    bot: RunningBot,
) -> None:
    bot.create_flag()
    bot.create_flag("dark_mode")

    view = open_start_form(bot, "start")

    [flag_input] = [b for b in view["blocks"] if b.get("block_id") == BlockId.START_FLAG.value]
    options = [o["value"] for o in flag_input["element"]["options"]]
    assert sorted(options) == ["dark_mode", FLAG]
    answer = bot.submit(DEV, view["callback_id"], "", start_form_values(FLAG, " true "))
    assert answer.status == 200
    assert answer.body == b""  # the form closes
    bot.wait_until(lambda: status_posts(bot.fake))
    [release] = bot.service.releases()
    assert (release.flag_key, release.triggered_by) == (FLAG, DEV)
    assert f"Release #{release.id}" in texts(status_posts(bot.fake)[0].params["blocks"])


def test_start_with_only_a_flag_opens_the_form_too(bot: RunningBot) -> None:
    bot.create_flag()
    open_start_form(bot, f"start {FLAG}")
    assert bot.service.releases() == []


def test_start_form_shows_errors_next_to_the_field(bot: RunningBot) -> None:
    status = start(bot)
    bot.create_flag("dark_mode")
    view = open_start_form(bot, "start")

    bad_value = bot.submit(DEV, view["callback_id"], "", start_form_values("dark_mode", "yes"))
    active = bot.submit(DEV, view["callback_id"], "", start_form_values(FLAG, "true"))
    empty = bot.submit(DEV, view["callback_id"], "", {})

    assert bad_value.json()["response_action"] == "errors"
    assert "yes is not JSON" in bad_value.json()["errors"][BlockId.START_VALUE.value]
    assert "already has an active release" in active.json()["errors"][BlockId.START_FLAG.value]
    assert BlockId.START_FLAG.value in empty.json()["errors"]
    assert [r.id for r in bot.service.releases()] == [status.release_id]


def test_start_form_slack_would_not_open_is_explained(bot: RunningBot) -> None:
    bot.fake.fail("views.open", "expired_trigger_id")
    reply = ask(bot, "start")
    assert "did not open the start form (expired_trigger_id)" in reply["text"]
    assert "/release start FLAG VALUE" in reply["text"]
