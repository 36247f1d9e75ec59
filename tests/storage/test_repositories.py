"""Flags, versions, releases and history stored in the database read back unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError

from release_bot.core.errors import ConcurrentUpdate, NotFound
from release_bot.core.models import Event, Outcome, PhaseStatus, ReleaseState, Version
from release_bot.storage import Database
from tests.support.samples import (
    NOW,
    TOKYO,
    TRIGGERER,
    baking_release,
    paused_release,
    sample_flag,
    store_flag,
)


def test_a_flag_and_its_versions_read_back_unchanged(database: Database) -> None:
    flag = sample_flag()
    config = {"limit": 5, "ratio": 0.25, "tags": ["a", "b"], "nested": {"on": True}}
    with database.uow() as uow:
        uow.flags.add(flag)
        uow.flags.add_version(flag.key, Version(1, config, NOW.astimezone(TOKYO), "U0ALICE"))
        uow.flags.add_version(flag.key, Version(2, False, NOW, "U0BOB"))
        uow.commit()
    with database.uow() as uow:
        assert uow.flags.get(flag.key) == flag
        versions = uow.flags.versions(flag.key)
    assert versions == {1: Version(1, config, NOW, "U0ALICE"), 2: Version(2, False, NOW, "U0BOB")}
    assert versions[1].created_at.tzinfo == UTC


def test_a_saved_flag_keeps_its_new_bases_and_flags_list_by_key(database: Database) -> None:
    for key in ("zeta", "alpha"):
        store_flag(database, sample_flag(key))
    with database.uow() as uow:
        uow.flags.save(replace(sample_flag("zeta"), env_versions={"staging": 2, "production": 2}))
        uow.commit()
    with database.uow() as uow:
        flags = uow.flags.list()
        assert uow.flags.get("nowhere") is None
    assert [f.key for f in flags] == ["alpha", "zeta"]
    assert flags[1].env_versions == {"staging": 2, "production": 2}


def test_saving_an_unknown_flag_is_not_found(database: Database) -> None:
    with database.uow() as uow, pytest.raises(NotFound, match="no flag ghost"):
        uow.flags.save(sample_flag("ghost"))


def test_a_release_reads_back_with_its_pipeline_snapshot_and_timers(database: Database) -> None:
    store_flag(database, sample_flag())
    release = paused_release()
    with database.uow() as uow:
        added = uow.releases.add(release)
        uow.commit()
    assert added.id is not None
    assert added.revision == 1
    with database.uow() as uow:
        stored = uow.releases.get(added.id)
        assert uow.releases.get(added.id + 1) is None
    assert stored == replace(release, id=added.id, revision=1)
    assert stored is not None
    assert stored.created_at.tzinfo == UTC
    assert stored.approvals[0].at == NOW + timedelta(hours=1)
    assert stored.remaining == timedelta(minutes=47, seconds=12, microseconds=345)
    assert stored.pipeline.phases[0].match == {"country": ("DE", "FR"), "plan": ("pro",)}


def test_a_finished_release_reads_back_with_its_end(database: Database) -> None:
    store_flag(database, sample_flag())
    done = replace(
        paused_release(), state=ReleaseState.COMPLETED, remaining=None, ended_at=NOW,
        phase_statuses=(PhaseStatus.SKIPPED, PhaseStatus.SKIPPED, PhaseStatus.ROLLED_OUT),
    )
    with database.uow() as uow:
        added = uow.releases.add(done)
        uow.commit()
    with database.uow() as uow:
        assert uow.releases.get(added.id or 0) == added
        assert uow.releases.active_for_flag("new_checkout") is None


def test_releases_list_newest_first_and_filter(database: Database) -> None:
    for key in ("a", "b"):
        store_flag(database, sample_flag(key))
    finished = replace(baking_release("a", NOW), state=ReleaseState.ABORTED, ended_at=NOW)
    with database.uow() as uow:
        first = uow.releases.add(finished)
        second = uow.releases.add(baking_release("b", NOW))
        third = uow.releases.add(baking_release("a", NOW))
        uow.commit()
    with database.uow() as uow:
        assert [r.id for r in uow.releases.list()] == [third.id, second.id, first.id]
        assert [r.id for r in uow.releases.list(active_only=True)] == [third.id, second.id]
        assert [r.id for r in uow.releases.list(flag_key="a")] == [third.id, first.id]
        assert [r.id for r in uow.releases.list(active_only=True, flag_key="a")] == [third.id]
        assert uow.releases.active_for_flag("a") == third


def test_a_flag_has_at_most_one_active_release_in_the_database(database: Database) -> None:
    store_flag(database, sample_flag())
    with database.uow() as uow:
        first = uow.releases.add(baking_release("new_checkout", NOW))
        uow.commit()
    with database.uow() as uow, pytest.raises(ConcurrentUpdate, match="one active release"):
        uow.releases.add(baking_release("new_checkout", NOW))
    with database.uow() as uow:
        uow.releases.save(replace(first, state=ReleaseState.ABORTED, ended_at=NOW))
        second = uow.releases.add(baking_release("new_checkout", NOW))
        uow.commit()
    with database.uow() as uow:
        assert uow.releases.active_for_flag("new_checkout") == second


def test_due_lists_baking_releases_whose_timer_ended_earliest_first(database: Database) -> None:
    keys = ("late", "early", "exact", "future", "paused", "waiting")
    for key in keys:
        store_flag(database, sample_flag(key))
    ends = {"late": NOW - timedelta(minutes=1), "early": NOW - timedelta(hours=1),
            "exact": NOW, "future": NOW + timedelta(seconds=1)}
    with database.uow() as uow:
        ids = {key: uow.releases.add(baking_release(key, at)).id for key, at in ends.items()}
        uow.releases.add(replace(baking_release("paused", NOW - timedelta(hours=2)),
                                 state=ReleaseState.PAUSED))
        uow.releases.add(replace(baking_release("waiting", NOW - timedelta(hours=2)),
                                 state=ReleaseState.AWAITING_APPROVAL))
        uow.commit()
    def due(now: datetime, limit: int = 100) -> list[int | None]:
        with database.uow() as uow:
            return [release.id for release in uow.releases.due(now, limit)]

    with database.uow() as uow:
        assert uow.releases.next_due() == NOW - timedelta(hours=1)
        assert uow.releases.next_due().tzinfo is not None
    assert due(NOW) == [ids["early"], ids["late"], ids["exact"]]
    assert due(NOW, limit=2) == [ids["early"], ids["late"]]
    assert due(NOW.astimezone(TOKYO)) == due(NOW)
    assert due(NOW - timedelta(days=1)) == []


def test_history_reads_back_in_the_order_it_was_written(database: Database) -> None:
    store_flag(database, sample_flag())
    with database.uow() as uow:
        release = uow.releases.add(baking_release("new_checkout", NOW))
        uow.commit()
    assert release.id is not None
    # written out of time order on purpose: the history keeps the order of writing
    events = [
        Event("new_checkout", NOW, TRIGGERER, "create", Outcome.OK, "created"),
        Event("new_checkout", NOW + timedelta(hours=1), "U0A", "pause", Outcome.DENIED,
              "You can't Pause.", release_id=release.id, phase=0, from_state="baking(0)",
              to_state="baking(0)", rule="ActorIsPermitted"),
        Event("new_checkout", NOW - timedelta(hours=1), "U0B", "abort", Outcome.OK, "aborted",
              release_id=release.id, phase=0, from_state="baking(0)", to_state="aborted",
              reason="errors up"),
    ]
    for event in events[:2]:
        with database.uow() as uow:
            uow.history.append(event)
            uow.commit()
    with database.uow() as uow:
        uow.history.append(events[2])
        uow.commit()
    with database.uow() as uow:
        assert uow.history.for_flag("new_checkout") == events
        assert uow.history.for_release(release.id) == events[1:]
        assert uow.history.for_flag("other") == []


def test_a_naive_datetime_is_refused_before_it_reaches_the_database(database: Database) -> None:
    store_flag(database, sample_flag())
    naive = Event("new_checkout", datetime(2030, 1, 1, 9, 0), TRIGGERER, "x", Outcome.OK, "x")
    with database.uow() as uow:
        uow.history.append(naive)
        with pytest.raises(StatementError, match="no time zone"):
            uow.commit()
