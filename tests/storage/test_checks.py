"""Check states on the real database: scheduled when a phase goes live, claimed with a lease,
measured into verdicts and guardrail actions, and stopped when the release ends."""

from __future__ import annotations

import threading
from datetime import timedelta

from release_bot.core.guardrails import DueCheck, Measurement
from release_bot.core.models import (
    GUARDRAIL_ACTOR,
    Action,
    Check,
    Command,
    FlagKind,
    OnFail,
    Phase,
    Pipeline,
    ReleaseState,
    Verdict,
)
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from release_bot.storage.checks import SqlCheckQueue
from tests.support.fakes import Everyone
from tests.support.samples import NOW, TRIGGERER

ERRORS = Check("error rate", "sum(rate(errors[5m]))", ">", 0.01, timedelta(seconds=10),
               after=timedelta(seconds=30), failures=2, on_fail=OnFail.ABORT)
LATENCY = Check("latency", "p99", ">=", 0.5, timedelta(seconds=10))
PIPELINE = Pipeline("guarded", (
    Phase("Canary", ("production",), percentage=10, bake=timedelta(minutes=5),
          checks=(ERRORS, LATENCY)),
    Phase("Production", ("production",)),
), channel="C0RELEASE")


def started(database: Database, key: str = "new_checkout") -> tuple[ReleaseService, int]:
    service = ReleaseService(database.uow, {"guarded": PIPELINE}, Everyone())
    service.create_flag(key, FlagKind.GATE, "guarded", False, TRIGGERER, NOW)
    release = service.start_release(key, True, TRIGGERER, NOW)
    assert release.id is not None
    return service, release.id


def due(queue: SqlCheckQueue, seconds: float, limit: int = 10) -> dict[str, DueCheck]:
    return {d.name: d for d in queue.claim(NOW + timedelta(seconds=seconds), limit)}


def test_checks_start_with_the_phase_and_are_claimed_once(database: Database) -> None:
    service, rid = started(database)
    queue = SqlCheckQueue(database)
    release = service.release(rid)
    assert [(c.name, c.due_at, c.verdict) for c in release.checks] == [
        ("error rate", NOW + timedelta(seconds=30), None), ("latency", NOW, None)]
    first = due(queue, 1)
    assert list(first) == ["latency"] and first["latency"].query == "p99"
    assert due(queue, 1) == {}  # leased
    assert list(due(queue, 31)) == ["error rate"]


def test_failures_in_a_row_abort_as_the_guardrail_and_stop_every_check(database: Database
                                                                      ) -> None:
    service, rid = started(database)
    queue = SqlCheckQueue(database)
    check = due(queue, 31)["error rate"]
    assert service.record_measurement(check, Measurement(0.5, NOW), NOW + timedelta(seconds=31))
    release = service.release(rid)
    state = release.check_state(0, "error rate")
    assert state is not None and state.verdict is Verdict.FAIL and state.failures == 1
    assert state.due_at == NOW + timedelta(seconds=40) and release.state is ReleaseState.BAKING
    again = due(queue, 41)["error rate"]
    assert service.record_measurement(again, Measurement(0.7, NOW), NOW + timedelta(seconds=41))
    release = service.release(rid)
    assert release.state is ReleaseState.ABORTED
    history = service.history("new_checkout")
    verdicts = [e.message for e in history if e.action == "check"]
    assert verdicts == ["check error rate failed: 0.5 (fails if > 0.01)"]  # changed once
    abort = history[-1]
    assert (abort.actor, abort.action) == (GUARDRAIL_ACTOR, "abort")
    assert abort.reason == ("check error rate failed 2 time(s) in a row: query "
                            "sum(rate(errors[5m])) gave 0.7, which fails if > 0.01")
    assert service.evaluate("new_checkout", "production", "anyone", {}) is False
    assert due(queue, 3600) == {}
    assert all(c.due_at is None for c in service.release(rid).checks)


def test_a_bake_is_held_by_its_checks_and_ends_once_they_pass(database: Database) -> None:
    service, rid = started(database)
    queue = SqlCheckQueue(database)
    end = NOW + timedelta(minutes=5)
    service.record_measurement(due(queue, 1)["latency"], Measurement(0.1, NOW), NOW)
    assert [r.id for r in service.advance_due(end)] == [rid]
    held = service.release(rid)
    assert held.held_since == end and held.phase == 0 and held.state is ReleaseState.BAKING
    assert service.advance_due(end + timedelta(minutes=1)) == []
    assert service.next_due() is None or service.next_due() > end  # no sweep spins on it
    errors = due(queue, 301)["error rate"]
    service.record_measurement(errors, Measurement(0.001, end), end + timedelta(seconds=2))
    release = service.release(rid)
    assert release.state is ReleaseState.COMPLETED
    assert [e.message for e in service.history("new_checkout") if e.action == "timer"] == [
        "the bake time of phase Canary is over, but the bake is held: check error rate has "
        "not been measured yet",
        "the bake of phase Canary ended once its checks passed",
    ]


def test_replicas_claiming_together_never_take_one_check_twice(database: Database) -> None:
    for n in range(10):
        started(database, f"flag_{n}")
    queue = SqlCheckQueue(database)
    taken: list[tuple[int, str]] = []
    lock = threading.Lock()

    def claim() -> None:
        for _ in range(5):
            found = queue.claim(NOW + timedelta(minutes=1), 3)
            with lock:
                taken.extend((d.release_id, d.name) for d in found)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == len(set(taken)) == 20


def test_a_person_unpausing_over_a_failing_check_is_paused_again_by_the_next_one(
    database: Database,
) -> None:
    service, rid = started(database)
    queue = SqlCheckQueue(database)
    service.record_measurement(due(queue, 1)["latency"], Measurement(0.9, NOW), NOW)
    assert service.release(rid).state is ReleaseState.PAUSED
    service.act(Command(rid, Action.UNPAUSE, "U0ENG"), NOW + timedelta(seconds=5))
    assert service.release(rid).state is ReleaseState.BAKING
    service.record_measurement(due(queue, 11)["latency"], Measurement(0.8, NOW),
                               NOW + timedelta(seconds=11))
    assert service.release(rid).state is ReleaseState.PAUSED
    actors = [(e.actor, e.action) for e in service.history("new_checkout")
              if e.action in ("pause", "unpause")]
    assert actors == [(GUARDRAIL_ACTOR, "pause"), ("U0ENG", "unpause"),
                      (GUARDRAIL_ACTOR, "pause")]


def test_the_read_path_without_the_orm_sees_the_checks_too(database: Database) -> None:
    service, rid = started(database)
    queue = SqlCheckQueue(database)
    service.record_measurement(due(queue, 1)["latency"], Measurement(0.1, NOW), NOW)
    reader = ReleaseService(database.uow, {"guarded": PIPELINE}, Everyone(),
                            reads=database.reads)
    for release in (reader.release(rid), *reader.releases(active_only=True),
                    reader.flag("new_checkout")[2]):
        assert release is not None
        latency = release.check_state(0, "latency")
        assert latency is not None and latency.verdict is Verdict.PASS and latency.value == 0.1
