"""The Sweeper with an injected clock: due timers end exactly once, due reminders go exactly once.

No sleeping through bakes: the clock is a variable the test moves (tests.support.sweep_rig).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from release_bot.core.models import Action, Command, NoticeKind, ReleaseState
from release_bot.storage import Database
from tests.support.sweep_rig import ALICE, T0, Rig


@pytest.fixture
def rig(database: Database) -> Iterator[Rig]:
    yield Rig(database)


def test_sweeps_end_exactly_the_due_bakes_once(rig: Rig) -> None:
    a = rig.start("a", "timed", T0)  # staging ends at T0+10m
    b = rig.start("b", "timed", T0 + timedelta(minutes=5))  # staging ends at T0+15m

    assert rig.sweep_at(T0 + timedelta(minutes=10) - timedelta(microseconds=1)) == 0
    assert rig.rings == 0

    assert rig.sweep_at(T0 + timedelta(minutes=10)) == 1  # due at exactly its end
    assert rig.rings == 1
    moved = rig.service.release(a)
    assert (moved.state, moved.phase) == (ReleaseState.BAKING, 1)
    assert moved.bake_ends_at == T0 + timedelta(minutes=30)  # production bakes its full 20m
    assert rig.service.release(b).phase == 0

    # the scheduler sweeps again a second later, and again: nothing moves twice
    assert rig.sweep_at(T0 + timedelta(minutes=10, seconds=1)) == 0
    assert rig.sweep_at(T0 + timedelta(minutes=10, seconds=2)) == 0
    assert (rig.timer_events("a"), rig.timer_events("b")) == (1, 0)
    assert rig.rings == 1

    assert rig.sweep_at(T0 + timedelta(minutes=15)) == 1
    assert (rig.timer_events("a"), rig.timer_events("b")) == (1, 1)

    assert rig.sweep_at(T0 + timedelta(minutes=30)) == 1
    assert rig.service.release(a).state is ReleaseState.COMPLETED
    assert rig.service.release(b).phase == 1
    assert rig.sweep_at(T0 + timedelta(minutes=34, seconds=59)) == 0
    assert rig.sweep_at(T0 + timedelta(minutes=35)) == 1
    assert rig.service.release(b).state is ReleaseState.COMPLETED
    assert (rig.timer_events("a"), rig.timer_events("b")) == (2, 2)
    # one status update per move, and one completion and one DM per release
    for rid in (a, b):
        assert rig.notices(rid, NoticeKind.STATUS_CHANGED) == 2
        assert rig.notices(rid, NoticeKind.COMPLETED) == 1
        assert rig.notices(rid, NoticeKind.STARTER_TOLD) == 1


def test_sweeps_send_each_due_reminder_once_then_escalate_once_and_stop_on_approval(
    rig: Rig,
) -> None:
    c = rig.start("c", "gated", T0)
    since = T0 + timedelta(minutes=10)
    assert rig.sweep_at(since) == 1
    assert rig.service.release(c).state is ReleaseState.AWAITING_APPROVAL
    assert rig.notices(c, NoticeKind.APPROVAL_NEEDED) == 1

    def sent() -> tuple[int, int]:
        return rig.notices(c, NoticeKind.REMINDER), rig.notices(c, NoticeKind.ESCALATION)

    assert rig.sweep_at(since + timedelta(minutes=59)) == 0
    assert sent() == (0, 0)
    assert rig.sweep_at(since + timedelta(hours=1)) == 1
    assert rig.sweep_at(since + timedelta(hours=1, seconds=1)) == 0
    assert sent() == (1, 0)
    assert rig.sweep_at(since + timedelta(hours=2)) == 1
    assert sent() == (2, 0)
    # escalate_after is counted from when the approval started waiting
    assert rig.sweep_at(since + timedelta(hours=3)) == 1
    assert rig.sweep_at(since + timedelta(hours=3, seconds=1)) == 0
    assert sent() == (2, 1)
    assert rig.sweep_at(since + timedelta(hours=4)) == 1
    assert sent() == (3, 1), "after the escalation, reminders go on; escalation is once"

    rig.clock.at = since + timedelta(hours=4, minutes=30)
    rig.service.act(Command(c, Action.APPROVE, ALICE, phase=1), rig.clock())
    assert rig.service.release(c).state is ReleaseState.COMPLETED
    assert rig.sweep_at(since + timedelta(hours=9)) == 0
    assert sent() == (3, 1)


def test_after_a_long_outage_one_sweep_catches_up_without_a_burst(rig: Rig) -> None:
    """Down for a day: each release moves one step per due timer, and waiting approvals get one
    notice, not one per missed reminder."""
    timed = rig.start("timed", "timed", T0)
    gated = rig.start("gated", "gated", T0)
    day_later = T0 + timedelta(days=1)

    assert rig.sweep_at(day_later) == 2
    first = rig.service.release(timed)
    assert (first.phase, first.bake_ends_at) == (1, day_later + timedelta(minutes=20))
    assert rig.service.release(gated).state is ReleaseState.AWAITING_APPROVAL

    assert rig.sweep_at(day_later + timedelta(days=1)) == 2  # production ends; one notice
    assert rig.service.release(timed).state is ReleaseState.COMPLETED
    waited = rig.notices(gated, NoticeKind.REMINDER) + rig.notices(gated, NoticeKind.ESCALATION)
    assert (waited, rig.notices(gated, NoticeKind.ESCALATION)) == (1, 1)


def test_a_failing_sweep_is_logged_and_retried_by_the_next_one(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.start("a", "timed", T0)

    def broken(*_: object) -> list[object]:
        raise RuntimeError("database went away")

    healthy = rig.service.advance_due
    rig.service.advance_due = broken  # type: ignore[method-assign,assignment]
    assert rig.sweep_at(T0 + timedelta(hours=1)) == 0
    assert "sweep failed" in caplog.text and "database went away" in caplog.text
    assert rig.rings == 0

    rig.service.advance_due = healthy  # type: ignore[method-assign]
    assert rig.sweep_at(T0 + timedelta(hours=1, seconds=1)) == 1
    assert rig.rings == 1
