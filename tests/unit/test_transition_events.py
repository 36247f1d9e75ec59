"""What each decision leaves behind: one OK history event and the notifications to send."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core import machine
from release_bot.core.models import Action, Command, NoticeKind, Outcome
from release_bot.core.sentences import Sentence
from tests.support.fakes import (
    ALICE,
    BOB,
    NOW,
    TRIGGERER,
    Everyone,
    act,
    expire,
    gate_flag,
    started,
    three_phase,
)

T = NOW + timedelta(minutes=10)
SC, AT, AN = NoticeKind.STATUS_CHANGED, NoticeKind.ACTION_TAKEN, NoticeKind.APPROVAL_NEEDED
DONE, ABORTED = NoticeKind.COMPLETED, NoticeKind.ABORTED
TOLD = NoticeKind.STARTER_TOLD


def baking0():
    return started()


def awaiting1():
    return expire(started())


def baking1():
    return act(awaiting1(), Action.APPROVE, ALICE)


def awaiting2():
    return act(baking1(), Action.SKIP)


CASES = [
    # (name, release builder, action, actor, from_state, to_state, notification kinds)
    ("pause", baking0, Action.PAUSE, ALICE, "baking(0)", "paused(0)", [SC, AT]),
    ("unpause", lambda: act(baking0(), Action.PAUSE), Action.UNPAUSE, ALICE,
     "paused(0)", "baking(0)", [SC, AT]),
    ("skip into a gate", baking0, Action.SKIP, ALICE, "baking(0)", "awaiting_approval(1)",
     [SC, AT, AN]),
    ("approve", awaiting1, Action.APPROVE, ALICE, "awaiting_approval(1)", "baking(1)", [SC, AT]),
    ("approve 1 of 2", awaiting2, Action.APPROVE, BOB, "awaiting_approval(2)",
     "awaiting_approval(2)", [SC, AT]),
    ("approve 2 of 2 completes", lambda: act(awaiting2(), Action.APPROVE, BOB), Action.APPROVE,
     ALICE, "awaiting_approval(2)", "completed", [SC, AT, DONE, TOLD]),
    ("abort", baking1, Action.ABORT, ALICE, "baking(1)", "aborted", [SC, AT, ABORTED, TOLD]),
    ("full rollout", awaiting1, Action.FULL_ROLLOUT, ALICE, "awaiting_approval(1)", "completed",
     [SC, AT, DONE, TOLD]),
]


@pytest.mark.parametrize(("name", "make", "action", "actor", "from_state", "to_state", "kinds"),
                         CASES, ids=[c[0] for c in CASES])
def test_a_decision_yields_one_ok_event_and_its_notifications(
        name, make, action, actor, from_state, to_state, kinds):
    release = make()
    command = Command(release.id, action, actor, phase=release.phase, reason="because")
    transition = machine.decide(release, command, T, Everyone())

    (event,) = transition.events
    assert event.outcome is Outcome.OK
    assert (event.from_state, event.to_state) == (from_state, to_state)
    assert (event.action, event.actor, event.at, event.phase) == (
        action.value, actor, T, release.phase)
    assert event.release_id == release.id and event.flag_key == release.flag_key
    assert event.rule is None
    assert [n.kind for n in transition.notifications] == kinds

    taken = next(n for n in transition.notifications if n.kind is AT)
    assert taken.data["action"] == action.value and taken.data["actor"] == actor
    assert taken.data["phase"] == release.phase
    assert Sentence.from_data(taken.data["sentence"]).plain == event.message
    changed = transition.notifications[0]
    assert changed.data["phase"] == transition.release.phase


def test_the_approval_needed_notice_names_the_next_phase_groups_and_count():
    transition = machine.decide(baking1(), Command(7, Action.SKIP, ALICE), T, Everyone())
    needed = next(n for n in transition.notifications if n.kind is AN)
    assert needed.data == {"phase": 2, "groups": ["@approvers"], "required": 2, "approved": []}


def test_trigger_yields_release_started_and_a_trigger_event():
    transition = machine.start(gate_flag(), three_phase(), 2, TRIGGERER, NOW)
    (event,) = transition.events
    assert event.outcome is Outcome.OK
    assert (event.action, event.actor, event.at) == ("trigger", TRIGGERER, NOW)
    assert (event.from_state, event.to_state) == (None, "baking(0)")
    assert "version 2" in event.message and "standard" in event.message
    assert [n.kind for n in transition.notifications] == [NoticeKind.RELEASE_STARTED]


def test_a_bake_timer_ending_yields_one_system_event():
    transition = machine.timer_end(started(), NOW + timedelta(hours=1))
    (event,) = transition.events
    assert (event.actor, event.action, event.outcome) == ("release-bot", "timer", Outcome.OK)
    assert (event.from_state, event.to_state) == ("baking(0)", "awaiting_approval(1)")
    assert "Staging" in event.message
    assert [n.kind for n in transition.notifications] == [SC, AN]


def test_the_pause_message_says_how_much_time_is_left():
    transition = machine.decide(started(), Command(7, Action.PAUSE, ALICE),
                                    NOW + timedelta(minutes=12, seconds=30), Everyone())
    assert "17m30s left" in transition.events[0].message
