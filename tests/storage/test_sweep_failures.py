"""What the sweep keeps about a release it failed: kept, skipped until due, cleared on a move."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from alembic import command
from sqlalchemy import MetaData, Table, insert

from release_bot.core.models import ReleaseState
from release_bot.core.sweeps import StuckRelease, SweepFailure
from release_bot.storage import Database, open_database
from release_bot.storage.database import alembic_config
from release_bot.storage.mapping import flag_values, release_values
from tests.support.samples import NOW, baking_release, sample_flag, store_flag

MINUTE = timedelta(minutes=1)


def baking_and_waiting(database: Database) -> tuple[int, int]:
    """A release whose bake ended and one whose reminder is due, both at NOW - 1 minute."""
    for key in ("baking", "waiting"):
        store_flag(database, sample_flag(key))
    with database.uow() as uow:
        baking = uow.releases.add(baking_release("baking", NOW - MINUTE))
        waiting = uow.releases.add(replace(
            baking_release("waiting", NOW), state=ReleaseState.AWAITING_APPROVAL,
            bake_ends_at=None, awaiting_since=NOW - MINUTE, remind_at=NOW - MINUTE))
        uow.commit()
    assert baking.id is not None and waiting.id is not None
    return baking.id, waiting.id


def test_a_recorded_failure_reads_back_and_leaves_the_revision(database: Database) -> None:
    baking, _ = baking_and_waiting(database)
    failure = SweepFailure(baking, 3, "IndexError: tuple index out of range", NOW + 4 * MINUTE)
    with database.uow() as uow:
        before = uow.releases.get(baking)
        uow.releases.record_sweep_failure(failure)
        uow.commit()
    with database.uow() as uow:
        assert uow.releases.sweep_failure(baking) == failure
        assert uow.releases.stuck() == [StuckRelease(failure, "baking", "baking(0)")]
        assert uow.releases.get(baking) == before, "a failed sweep changed nothing a person sees"


def test_a_stuck_release_is_due_again_only_at_its_retry_time(database: Database) -> None:
    baking, waiting = baking_and_waiting(database)
    retry_at = NOW + MINUTE
    with database.uow() as uow:
        for release_id in (baking, waiting):
            uow.releases.record_sweep_failure(SweepFailure(release_id, 1, "boom", retry_at))
        uow.commit()
    with database.uow() as uow:
        found = uow.releases
        before = (found.due(NOW, 10), found.due_ids(NOW, 10), found.reminders_due(NOW, 10),
                  found.reminder_ids(NOW, 10))
        assert before == ([], [], [], [])
        assert [r.id for r in found.due(retry_at, 10)] == found.due_ids(retry_at, 10) == [baking]
        assert [r.id for r in found.reminders_due(retry_at, 10)] == [waiting]
        assert found.reminder_ids(retry_at, 10) == [waiting]
        assert found.next_due() == retry_at


def test_next_due_of_a_stuck_release_is_its_timer_when_that_comes_after_the_retry(
    database: Database,
) -> None:
    store_flag(database, sample_flag())
    with database.uow() as uow:
        release = uow.releases.add(baking_release("new_checkout", NOW + 10 * MINUTE))
        uow.commit()
    assert release.id is not None
    with database.uow() as uow:
        uow.releases.record_sweep_failure(SweepFailure(release.id, 1, "boom", NOW + MINUTE))
        uow.commit()
        assert uow.releases.next_due() == NOW + 10 * MINUTE


def test_a_release_that_moves_is_stuck_no_more(database: Database) -> None:
    baking, _ = baking_and_waiting(database)
    with database.uow() as uow:
        uow.releases.record_sweep_failure(SweepFailure(baking, 2, "boom", NOW + MINUTE))
        uow.commit()
    with database.uow() as uow:
        release = uow.releases.get(baking)
        assert release is not None
        uow.releases.save(replace(release, state=ReleaseState.PAUSED, remaining=MINUTE))
        uow.commit()
    with database.uow() as uow:
        assert uow.releases.sweep_failure(baking) is None
        assert uow.releases.stuck() == []


def test_the_migration_keeps_releases_made_before_it_and_none_is_stuck(database_url: str) -> None:
    database = open_database(database_url)
    with database.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        tables = MetaData()
        flags = Table("flags", tables, autoload_with=connection)
        releases = Table("releases", tables, autoload_with=connection)
        connection.execute(insert(flags).values(**flag_values(sample_flag()), created_at=NOW))
        # the columns of revision 0001: held_since came with 0003
        old = {k: v for k, v in release_values(baking_release("new_checkout", NOW)).items()
               if k != "held_since"}
        connection.execute(insert(releases).values(**old, updated_at=NOW, revision=1))
    database.upgrade()
    with database.uow() as uow:
        assert uow.releases.due_ids(NOW, 10) == [1]
        assert uow.releases.stuck() == [] and uow.releases.sweep_failure(1) is None
    database.dispose()
