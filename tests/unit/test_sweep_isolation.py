"""A release the sweep cannot move is isolated, retried with backoff and listed as stuck.

The fake store plays the two ways a release breaks a sweep: its row cannot be read (the whole
query that reads it fails), or saving it raises something other than a lost race.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from release_bot.core import service as service_module
from release_bot.core.models import Action, Command, FlagKind, Release, ReleaseState
from release_bot.core.service import ReleaseService
from release_bot.core.sweeps import SweepFailure, describe, retry_delay
from tests.support.fakes import (
    ALICE,
    NOW,
    TRIGGERER,
    FakeStore,
    approvers_membership,
    pipeline_of,
    staging,
    three_phase,
)

BAKE = timedelta(minutes=10)
S = timedelta(seconds=1)


class Told:
    """The on_stuck callback: every failure it was told of, with the error raised."""

    def __init__(self) -> None:
        self.failures: list[SweepFailure] = []
        self.errors: list[Exception] = []

    def __call__(self, failure: SweepFailure, error: Exception) -> None:
        self.failures.append(failure)
        self.errors.append(error)


def releases(count: int) -> tuple[ReleaseService, FakeStore, list[Release]]:
    """`count` releases of one-phase pipelines, bakes ending a second apart from NOW + BAKE."""
    store = FakeStore()
    pipelines = {"quick": pipeline_of(staging(bake=BAKE), name="quick"),
                 "standard": three_phase()}
    svc = ReleaseService(store.unit_of_work, pipelines, approvers_membership())
    started = []
    for n in range(count):
        svc.create_flag(f"f{n}", FlagKind.GATE, "quick", False, ALICE, NOW)
        started.append(svc.start_release(f"f{n}", True, TRIGGERER, NOW + n * S))
    return svc, store, started


def unreadable(store: FakeStore, release: Release) -> None:
    assert release.id is not None
    store.poisoned.add(release.id)


def unsavable(store: FakeStore, release: Release) -> None:
    def refuse(_: FakeStore, saving: Release) -> None:
        if saving.id == release.id:
            raise RuntimeError("no such column: phase_statuses")

    store.before_save = refuse


POISONS = [unreadable, unsavable]


@pytest.mark.parametrize("poison", POISONS)
def test_a_poison_release_does_not_hold_back_the_rest_of_its_chunk(
    poison: Callable[[FakeStore, Release], None],
) -> None:
    svc, store, (bad, good, later) = releases(3)
    poison(store, bad)
    told = Told()
    at = NOW + BAKE + S  # bad's and good's bakes are over, later's ends a second after
    moved = svc.advance_due(at, on_stuck=told)
    assert [r.id for r in moved] == [good.id]
    assert store.releases[good.id].state is ReleaseState.COMPLETED
    assert store.releases[bad.id] == bad, "the poison release is left as it was"
    [failure] = told.failures
    assert failure == SweepFailure(bad.id, 1, describe(told.errors[0]), at + S)
    assert failure.error.startswith("RuntimeError: ")
    assert store.sweep_failures == {bad.id: failure}

    # the next sweep a second later moves `later` and retries `bad`, which fails again
    moved = svc.advance_due(at + S, on_stuck=told)
    assert [r.id for r in moved] == [later.id]
    assert [f.failures for f in told.failures] == [1, 2]


def test_a_chunk_of_poison_releases_does_not_stop_the_sweep_before_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_module, "SWEEP_CHUNK", 2)
    svc, store, started = releases(5)
    for release in started[:2]:  # the whole first chunk
        unreadable(store, release)
    told = Told()
    moved = svc.advance_due(NOW + BAKE + 5 * S, on_stuck=told)
    assert sorted(r.id for r in moved) == [r.id for r in started[2:]]
    assert [f.release_id for f in told.failures] == [r.id for r in started[:2]]


def test_a_poison_release_is_retried_with_doubling_backoff_and_told_once_per_step() -> None:
    svc, store, (bad,) = releases(1)
    unreadable(store, bad)
    told = Told()
    start = NOW + BAKE
    for second in range(1200):  # the scheduler's sweep, once a second for 20 minutes
        svc.advance_due(start + second * S, on_stuck=told)
    tries = [int((at - start) / S) for at in sweep_times(told.failures)]
    assert tries == [0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 811, 1111]
    assert [f.failures for f in told.failures] == list(range(1, 13))
    assert [f.backoff for f in told.failures][-3:] == [timedelta(minutes=5)] * 3
    assert store.sweep_failures[bad.id] == told.failures[-1]


def test_the_delay_doubles_from_a_second_up_to_five_minutes() -> None:
    assert [retry_delay(n) / S for n in (1, 2, 3, 9, 10, 11, 10**6)] == [
        1, 2, 4, 256, 300, 300, 300]


def test_a_stuck_release_is_not_due_before_its_retry_time() -> None:
    svc, store, (bad, good) = releases(2)
    unreadable(store, bad)
    svc.advance_due(NOW + BAKE)
    with store.unit_of_work() as uow:
        assert uow.releases.due_ids(NOW + BAKE + S - timedelta(microseconds=1), 10) == []
        assert uow.releases.due_ids(NOW + BAKE + S, 10) == [bad.id, good.id]
        assert uow.releases.next_due() == NOW + BAKE + S  # good ends then; bad retries then


def test_a_successful_retry_clears_the_failure() -> None:
    svc, store, (bad,) = releases(1)
    unreadable(store, bad)
    svc.advance_due(NOW + BAKE)
    assert [s.failure.release_id for s in svc.stuck()] == [bad.id]
    store.poisoned.clear()  # say, an operator repaired the row
    [moved] = svc.advance_due(NOW + BAKE + S)
    assert moved.state is ReleaseState.COMPLETED
    assert svc.stuck() == [] and store.sweep_failures == {}


def test_a_person_acting_on_a_stuck_release_clears_the_failure() -> None:
    store = FakeStore()
    svc = ReleaseService(store.unit_of_work, {"standard": three_phase()}, approvers_membership())
    svc.create_flag("f", FlagKind.GATE, "standard", False, ALICE, NOW)
    release = svc.start_release("f", True, TRIGGERER, NOW)
    unsavable(store, release)
    ends = release.bake_ends_at
    assert ends is not None
    svc.advance_due(ends)
    [stuck] = svc.stuck()
    assert (stuck.flag_key, stuck.state, stuck.failure.failures) == ("f", "baking(0)", 1)
    store.before_save = None
    svc.act(Command(release.id or 0, Action.SKIP, ALICE), ends + timedelta(milliseconds=500))
    assert svc.stuck() == []
    assert svc.release(release.id or 0).describe_state() == "awaiting_approval(1)"


def test_a_poison_release_does_not_hold_back_reminders() -> None:
    store = FakeStore()
    pipeline = three_phase(remind_every=timedelta(hours=1))
    svc = ReleaseService(store.unit_of_work, {"standard": pipeline}, approvers_membership())
    waiting = []
    for key in ("bad", "good"):
        svc.create_flag(key, FlagKind.GATE, "standard", False, ALICE, NOW)
        waiting.append(svc.start_release(key, True, TRIGGERER, NOW))
    svc.advance_due(NOW + timedelta(minutes=30))  # both now wait for the canary's approval
    bad, good = waiting
    unreadable(store, bad)
    told = Told()
    reminded = svc.remind_due(NOW + timedelta(minutes=90), on_stuck=told)
    assert [r.id for r in reminded] == [good.id]
    assert [f.release_id for f in told.failures] == [bad.id]


def test_the_error_is_kept_as_one_short_line() -> None:
    text = describe(ValueError("line one\nline two " + "x" * 1000))
    assert text.startswith("ValueError: line one line two x")
    assert "\n" not in text and len(text) == 300 and text.endswith("…")


def sweep_times(failures: list[SweepFailure]) -> list[datetime]:
    """When each failure happened."""
    return [f.retry_at - f.backoff for f in failures]
