"""Listeners are plain functions: imported and called alone, with fakes instead of Bolt and Slack.

They raise what goes wrong (the error path answers it, see test_error_path.py); what they do
when all is well is checked here against an in-memory core service.
"""

from __future__ import annotations

import pytest
from slack_bolt import BoltContext

from release_bot.bot.slack.ids import BlockId, Confirmation, ReleaseRef, Target
from release_bot.bot.slack.listeners.actions import approve, show_status
from release_bot.bot.slack.listeners.commands import release_command
from release_bot.bot.slack.listeners.views import reason_given
from release_bot.bot.slack.replies import ModalNotOpened
from release_bot.core.errors import Kind, RuleBroken
from release_bot.core.models import Action, ReleaseState
from tests.support.fakes import ALICE
from tests.support.slack_world import PERMALINK, Client, World


def test_approve_acts_as_the_person_who_clicked_and_wakes_delivery() -> None:
    world = World()

    approve(release_bot=world.ctx, target=Target(Action.APPROVE, world.release_id, 1),
            user_id=ALICE)

    release = world.service.release(world.release_id)
    assert (release.state, release.phase, release.approvers(1)) == (
        ReleaseState.BAKING, 1, (ALICE,))
    assert world.kicks == [None]


def test_a_stale_approve_raises_for_the_error_path_and_wakes_nobody() -> None:
    world = World()

    with pytest.raises(RuleBroken) as refused:
        approve(release_bot=world.ctx, target=Target(Action.APPROVE, world.release_id, 0),
                user_id=ALICE)

    assert refused.value.kind is Kind.OUT_OF_DATE
    assert world.kicks == []


def test_show_status_opens_the_status_with_a_link_to_the_status_message() -> None:
    world, client = World(), Client()

    show_status(release_bot=world.ctx, release_ref=ReleaseRef(world.release_id),
                body={"trigger_id": "T1"}, client=client)

    [opened] = client.opened
    assert opened["trigger_id"] == "T1"
    shown = str(opened["view"]["blocks"])
    assert f"<{PERMALINK}|Open the status message>" in shown
    assert "Production canary" in shown


def test_show_status_without_a_trigger_says_slack_opened_nothing() -> None:
    world, client = World(), Client()

    with pytest.raises(ModalNotOpened) as refused:
        show_status(release_bot=world.ctx, release_ref=ReleaseRef(world.release_id), body={},
                    client=client)

    assert refused.value.kind is Kind.UNAVAILABLE
    assert "Slack did not open the status" in refused.value.message
    assert client.opened == []


@pytest.mark.parametrize(("action", "reason", "sent_back"), [
    (Action.ABORT, "  ", True), (Action.ABORT, "errors spiked", False), (Action.PAUSE, None, False),
])
def test_the_confirmation_asks_the_core_whether_a_reason_is_missing(
    action: Action, reason: str | None, sent_back: bool
) -> None:
    state = {"values": {BlockId.REASON.value: {"reason_input": {"value": reason}}}}
    passed: list[None] = []

    def confirm() -> None:
        reason_given(confirmation=Confirmation(Target(action, 1, 0), None, None),
                     view={"state": state}, next_=lambda: passed.append(None))

    if sent_back:
        with pytest.raises(RuleBroken, match="Abort needs a reason"):
            confirm()
        assert passed == []
    else:
        confirm()
        assert passed == [None]


def test_release_help_is_answered_privately() -> None:
    client = Client()
    command = {"text": "deploy", "user_id": ALICE, "channel_id": "C0HERE"}

    release_command(release_bot=World().ctx, command=command, body=command,
                    context=BoltContext(user_id=ALICE, channel_id="C0HERE"), client=client)

    [answer] = client.ephemeral
    assert (answer["channel"], answer["user"]) == ("C0HERE", ALICE)
    assert answer["text"].startswith("I don't know `/release deploy`. Usage: /release help")
