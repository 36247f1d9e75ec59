"""A release whose row breaks the sweep holds no other release back, on SQLite and Postgres.

The Sweeper runs once a second on a fake clock; a row is poisoned with SQL, the way a bad
migration or a hand edit would leave it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from release_bot.core.models import ReleaseState
from release_bot.storage import Database
from release_bot.storage.tables import ReleaseRow
from tests.support.sweep_rig import T0, Rig

SWEEPER_LOG = "release_bot.bot.runtime.sweeper"
STAGING_ENDS = T0 + timedelta(minutes=10)
S = timedelta(seconds=1)


@pytest.fixture
def rig(database: Database) -> Iterator[Rig]:
    yield Rig(database)


def set_columns(database: Database, release_id: int, **values: Any) -> None:
    """Write columns of a release's row behind the application's back."""
    with database.engine.begin() as connection:
        connection.execute(update(ReleaseRow).where(ReleaseRow.id == release_id).values(**values))


def phase_out_of_range(database: Database, release_id: int) -> None:
    set_columns(database, release_id, phase=99)


def corrupt_pipeline(database: Database, release_id: int) -> None:
    set_columns(database, release_id, pipeline={"broken": True})


POISONS = {"phase out of range": phase_out_of_range, "corrupt pipeline": corrupt_pipeline}


def warnings_about(caplog: pytest.LogCaptureFixture, release_id: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.name == SWEEPER_LOG and r.getMessage().startswith(f"release #{release_id} ")]


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
def test_a_poison_release_delays_no_other_release_and_is_logged_once_per_backoff_step(
    rig: Rig, database: Database, caplog: pytest.LogCaptureFixture,
    poison: Callable[[Database, int], None],
) -> None:
    caplog.set_level(logging.WARNING, logger=SWEEPER_LOG)
    bad = rig.start("bad", "timed", T0)
    good = rig.start("good", "timed", T0)  # due at the same moment, after bad in the chunk
    later = rig.start("later", "timed", T0 + 3 * S)  # due when bad is tried the third time
    poison(database, bad)

    assert rig.sweep_at(STAGING_ENDS) == 1
    assert rig.service.release(good).phase == 1, "good moved in the very sweep it was due in"
    assert rig.rings == 1
    [first] = warnings_about(caplog, bad)
    assert first.levelno == logging.WARNING and first.exc_info is not None
    assert "(failure 1 in a row)" in first.getMessage()
    assert "next try in 1s" in first.getMessage()

    assert rig.sweep_at(STAGING_ENDS + S) == 0  # bad tried again: fails, 2 s until the next
    assert rig.sweep_at(STAGING_ENDS + 2 * S) == 0  # not tried: no line in the log
    assert rig.sweep_at(STAGING_ENDS + 3 * S) == 1  # bad fails a third time; later moves
    assert rig.service.release(later).phase == 1
    for second in range(4, 130):  # the scheduler's sweep, once a second
        rig.sweep_at(STAGING_ENDS + second * S)

    lines = [r.getMessage() for r in warnings_about(caplog, bad)]
    assert [line.split("(failure ")[1].split(" ")[0] for line in lines] == [
        "1", "2", "3", "4", "5", "6", "7", "8"]  # at 0, 1, 3, 7, 15, 31, 63 and 127 s
    assert "next try in 2m8s" in lines[-1]
    assert sum(r.exc_info is not None for r in warnings_about(caplog, bad)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no sweep failed"
    [stuck] = rig.service.stuck()
    assert (stuck.failure.release_id, stuck.failure.failures) == (bad, 8)
    assert stuck.failure.retry_at == STAGING_ENDS + 255 * S


def test_a_repaired_release_moves_at_its_next_retry_and_is_stuck_no_more(
    rig: Rig, database: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    bad = rig.start("bad", "timed", T0)
    phase_out_of_range(database, bad)
    for second in range(4):  # fails at 0, 1 and 3 s: next try at 7 s
        rig.sweep_at(STAGING_ENDS + second * S)
    assert [s.failure.failures for s in rig.service.stuck()] == [3]
    set_columns(database, bad, phase=0)  # an operator repairs the row

    assert rig.sweep_at(STAGING_ENDS + 6 * S) == 0, "it waits for its retry time"
    assert rig.sweep_at(STAGING_ENDS + 7 * S) == 1
    moved = rig.service.release(bad)
    assert (moved.state, moved.phase) == (ReleaseState.BAKING, 1)
    assert moved.bake_ends_at == STAGING_ENDS + 7 * S + timedelta(minutes=20)
    assert rig.service.stuck() == []
    assert rig.service.next_due() == moved.bake_ends_at
