"""Every release update is a compare-and-swap on its revision: a stale writer never wins."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from release_bot.core.errors import ConcurrentUpdate
from release_bot.core.models import Release, ReleaseState
from release_bot.storage import Database
from release_bot.storage.tables import ReleaseRow
from tests.support.samples import NOW, baking_release, sample_flag, store_flag


def stored_release(database: Database) -> Release:
    """A committed baking release of the sample flag."""
    store_flag(database, sample_flag())
    with database.uow() as uow:
        release = uow.releases.add(baking_release("new_checkout", NOW + timedelta(minutes=30)))
        uow.commit()
    return release


def test_each_save_returns_the_next_revision(database: Database) -> None:
    release = stored_release(database)
    with database.uow() as uow:
        paused = uow.releases.save(replace(release, state=ReleaseState.PAUSED))
        uow.commit()
    assert (release.revision, paused.revision) == (1, 2)
    with database.uow() as uow:
        assert uow.releases.get(release.id or 0) == paused


def test_the_second_of_two_readers_to_save_gets_concurrent_update(database: Database) -> None:
    release = stored_release(database)
    with database.uow() as first_reader:
        first = first_reader.releases.get(release.id or 0)
    with database.uow() as second_reader:
        second = second_reader.releases.get(release.id or 0)
    assert first is not None and second is not None
    with database.uow() as uow:
        uow.releases.save(replace(first, state=ReleaseState.PAUSED))
        uow.commit()
    with database.uow() as uow, pytest.raises(ConcurrentUpdate, match="changed since it was read"):
        uow.releases.save(replace(second, state=ReleaseState.ABORTED, ended_at=NOW))
    with database.uow() as uow:
        stored = uow.releases.get(release.id or 0)
    assert stored is not None
    assert (stored.state, stored.revision) == (ReleaseState.PAUSED, 2)


def test_interleaved_sessions_lose_the_race_at_flush(database: Database) -> None:
    if database.engine.dialect.name == "sqlite":
        pytest.skip("SQLite transactions begin with BEGIN IMMEDIATE, so they cannot interleave")
    release = stored_release(database)
    with database.uow() as first, database.uow() as second:
        mine = first.releases.get(release.id or 0)
        theirs = second.releases.get(release.id or 0)
        assert mine is not None and theirs is not None
        # the second session still holds revision 1, so its save passes the revision check
        # and the UPDATE ... WHERE revision = 1 at commit finds nothing to update
        held = second.session.get(ReleaseRow, release.id)
        assert held is not None and held.revision == 1
        first.releases.save(replace(mine, state=ReleaseState.PAUSED))
        first.commit()
        second.releases.save(replace(theirs, state=ReleaseState.ABORTED, ended_at=NOW))
        with pytest.raises(ConcurrentUpdate, match="changed this release at the same moment"):
            second.commit()
    with database.uow() as uow:
        stored = uow.releases.get(release.id or 0)
    assert stored is not None and stored.state is ReleaseState.PAUSED


def test_a_second_sqlite_writer_waits_for_the_first_instead_of_failing(
    database: Database,
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("the write lock at BEGIN is SQLite's; Postgres is covered above")
    release = stored_release(database)
    seen: list[Release | None] = []

    def read_in_another_transaction() -> None:
        with database.uow() as uow:
            seen.append(uow.releases.get(release.id or 0))

    with database.uow() as first:
        current = first.releases.get(release.id or 0)
        assert current is not None
        reader = threading.Thread(target=read_in_another_transaction)
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive(), "the second transaction began while the first held the lock"
        first.releases.save(replace(current, state=ReleaseState.PAUSED))
        first.commit()
    reader.join(timeout=30)
    assert seen and seen[0] is not None
    assert (seen[0].state, seen[0].revision) == (ReleaseState.PAUSED, 2)
