"""Database.reads(): the read-only transaction of `eval`, `release show`, `history` and the other
use cases that only read. It reads what a unit of work reads, sees only what was committed, and
never waits for a writer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

import release_bot.storage.database as storage_database
from release_bot.core.models import Event, Outcome
from release_bot.storage import Database, open_database
from tests.support.samples import NOW, TRIGGERER, baking_release, sample_flag, store_flag


@pytest.fixture
def impatient(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A migrated database whose SQLite connections give up after a second of waiting for a
    lock (instead of 30), so that a read that waited would fail fast."""
    monkeypatch.setattr(storage_database, "SQLITE_BUSY_TIMEOUT_SECONDS", 1)
    opened = open_database(database_url)
    opened.upgrade()
    yield opened
    opened.dispose()


def _stored(db: Database) -> int:
    """A flag with two versions, a baking release and two events; the release's id."""
    store_flag(db, sample_flag())
    with db.uow() as uow:
        release = uow.releases.add(baking_release("new_checkout", NOW))
        assert release.id is not None
        uow.history.append(Event("new_checkout", NOW, TRIGGERER, "trigger", Outcome.OK,
                                 "started", release_id=release.id))
        uow.history.append(Event("new_checkout", NOW + timedelta(minutes=1), "U0A", "pause",
                                 Outcome.DENIED, "You can't Pause.", release_id=release.id))
        uow.commit()
    return release.id


def test_reads_answer_what_a_unit_of_work_answers(database: Database) -> None:
    release_id = _stored(database)
    with database.uow() as uow:
        expected = (
            uow.flags.get("new_checkout"), uow.flags.list(), uow.flags.versions("new_checkout"),
            uow.releases.get(release_id), uow.releases.active_for_flag("new_checkout"),
            uow.releases.list(active_only=True, flag_key="new_checkout"),
            uow.history.for_flag("new_checkout"), uow.history.for_release(release_id),
        )
    with database.reads() as reads:
        found = (
            reads.flags.get("new_checkout"), reads.flags.list(),
            reads.flags.versions("new_checkout"), reads.releases.get(release_id),
            reads.releases.active_for_flag("new_checkout"),
            reads.releases.list(active_only=True, flag_key="new_checkout"),
            reads.history.for_flag("new_checkout"), reads.history.for_release(release_id),
        )
        assert reads.flags.get("nowhere") is None
        assert reads.releases.get(release_id + 1) is None
    assert found == expected
    assert len(found[2]) == 2 and len(found[6]) == 2, "there was something to read"


def test_a_read_sees_only_what_was_committed_and_does_not_wait_for_the_writer(
    impatient: Database,
) -> None:
    release_id = _stored(impatient)
    with impatient.uow() as writer:
        writer.flags.add(sample_flag("other"))  # flushed: the writer holds its lock
        with impatient.reads() as reads:
            assert [flag.key for flag in reads.flags.list()] == ["new_checkout"]
            assert reads.releases.get(release_id) is not None
        assert impatient.is_current(), "every command checks the schema first"
        writer.commit()
    with impatient.reads() as reads:
        assert [flag.key for flag in reads.flags.list()] == ["new_checkout", "other"]
