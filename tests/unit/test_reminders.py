"""Approval reminders and escalation: due times, what they say, and that acting stops them."""

from dataclasses import replace
from datetime import datetime, timedelta

from release_bot.core import machine
from release_bot.core.models import (
    Action,
    Command,
    FlagKind,
    NoticeKind,
    Pipeline,
    Release,
    ReleaseState,
)
from release_bot.core.service import ReleaseService
from tests.support.fakes import (
    ALICE,
    BOB,
    NOW,
    Everyone,
    FakeStore,
    act,
    approvers_membership,
    expire,
    production,
    staging,
    started,
    three_phase,
)

HOUR = timedelta(hours=1)


def waiting(**pipeline_settings: object) -> tuple[Release, datetime]:
    """A release that started waiting for the canary's approval at `since`."""
    settings = {"remind_every": 4 * HOUR, "escalate_after": 24 * HOUR,
                "escalate_to": ("@managers",), **pipeline_settings}
    pipeline = three_phase(**settings)
    release = expire(started(pipeline))
    assert release.state is ReleaseState.AWAITING_APPROVAL
    assert release.awaiting_since is not None
    return release, release.awaiting_since


def test_the_first_reminder_is_due_remind_every_after_the_wait_began() -> None:
    release, since = waiting()
    assert release.remind_at == since + 4 * HOUR
    assert machine.remind(release, since + 4 * HOUR - timedelta(seconds=1)) is None
    transition = machine.remind(release, since + 4 * HOUR)
    assert transition is not None
    assert [n.kind for n in transition.notifications] == [NoticeKind.REMINDER]
    assert transition.notifications[0].data["groups"] == ["@approvers"]
    assert transition.release.remind_at == since + 8 * HOUR
    assert transition.events == ()


def test_escalation_comes_once_after_escalate_after_then_reminders_go_on() -> None:
    release, since = waiting()
    for hours in (4, 8, 12, 16, 20):
        transition = machine.remind(release, since + hours * HOUR)
        assert transition is not None
        assert transition.notifications[0].kind is NoticeKind.REMINDER
        release = transition.release
    assert release.remind_at == since + 24 * HOUR
    transition = machine.remind(release, since + 24 * HOUR)
    assert transition is not None
    (note,) = transition.notifications
    assert note.kind is NoticeKind.ESCALATION
    assert note.data["groups"] == ["@managers"]
    assert note.data["waited"] == (24 * HOUR).total_seconds()
    release = transition.release
    assert release.escalated and release.remind_at == since + 28 * HOUR
    later = machine.remind(release, since + 28 * HOUR)
    assert later is not None and later.notifications[0].kind is NoticeKind.REMINDER


def test_without_escalate_to_there_is_no_escalation() -> None:
    release, since = waiting(escalate_to=())
    release = replace(release, remind_at=since + 24 * HOUR)
    transition = machine.remind(release, since + 24 * HOUR)
    assert transition is not None
    assert transition.notifications[0].kind is NoticeKind.REMINDER


def test_a_partial_approval_restarts_the_reminder_clock() -> None:
    pipeline = Pipeline(name="p", phases=(staging(), production(required=2)),
                        channel="C0", remind_every=4 * HOUR)
    release = expire(started(pipeline))
    assert release.awaiting_since is not None
    at = release.awaiting_since + HOUR
    release = act(release, Action.APPROVE, ALICE, at=at)
    assert release.state is ReleaseState.AWAITING_APPROVAL
    assert release.remind_at == at + 4 * HOUR


def test_reminders_stop_once_the_phase_goes_live_or_the_release_ends() -> None:
    release, since = waiting()
    live = act(release, Action.APPROVE, BOB, at=since + HOUR)
    assert live.state is ReleaseState.BAKING and live.remind_at is None
    assert machine.remind(live, since + 100 * HOUR) is None
    aborted = act(release, Action.ABORT, BOB, at=since + HOUR, reason="bad")
    assert aborted.remind_at is None
    assert machine.remind(aborted, since + 100 * HOUR) is None


def test_the_starter_is_told_when_the_release_ends() -> None:
    release, since = waiting()
    command = Command(release.id or 0, Action.ABORT, BOB, release.phase, "metrics")
    transition = machine.decide(release, command, since, Everyone())
    told = [n for n in transition.notifications if n.kind is NoticeKind.STARTER_TOLD]
    assert [(n.data["to"], n.data["outcome"]) for n in told] == [
        (release.triggered_by, "aborted")
    ]


def test_the_service_sends_each_due_reminder_once_and_queues_it() -> None:
    store = FakeStore()
    pipeline = three_phase(remind_every=4 * HOUR)
    service = ReleaseService(store.unit_of_work, {"standard": pipeline}, approvers_membership())
    service.create_flag("f", FlagKind.GATE, "standard", False, ALICE, NOW)
    release = service.start_release("f", True, ALICE, NOW)
    assert release.id is not None
    service.advance_due(NOW + timedelta(minutes=30))
    assert service.remind_due(NOW + 4 * HOUR) == []
    reminded = service.remind_due(NOW + timedelta(minutes=30) + 4 * HOUR)
    assert [r.id for r in reminded] == [release.id]
    assert service.remind_due(NOW + timedelta(minutes=31) + 4 * HOUR) == []
    kinds = [n.kind for _, _, n, _ in store.outbox]
    assert kinds.count(NoticeKind.REMINDER) == 1
