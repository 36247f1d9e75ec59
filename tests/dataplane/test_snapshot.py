"""The in-memory snapshot: every environment's flags, fresh after any replica's commit."""

from __future__ import annotations

import threading
import time

import pytest

from release_bot.bot.dataplane.snapshot import EnvironmentView, Snapshot
from release_bot.core.models import Action, Command, FlagKind
from release_bot.core.service import ReleaseService
from release_bot.storage import Database, open_database
from tests.support.dataplane import GENEROUS, eventually
from tests.support.samples import ENGINEER, NOW, TRIGGERER, standard_pipeline, team


def view(snapshot: Snapshot, environment: str) -> EnvironmentView:
    """The environment's view (which the test knows exists)."""
    found = snapshot.view(environment)
    assert found is not None
    return found


def test_an_unknown_environment_has_no_view(snapshot: Snapshot) -> None:
    assert snapshot.view("qa") is None
    assert snapshot.view("staging") is not None


def test_a_release_shows_in_the_environments_its_live_phases_name(
    snapshot: Snapshot, service: ReleaseService
) -> None:
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    eventually(lambda: "new_checkout" in view(snapshot, "staging").flags)
    release = service.start_release("new_checkout", True, TRIGGERER, NOW)

    eventually(lambda: view(snapshot, "staging").flags["new_checkout"].scopes != ())
    staging = view(snapshot, "staging").flags["new_checkout"]
    assert (staging.release_id, staging.phase_name, staging.new_value) == (
        release.id, "Staging", True)
    production = view(snapshot, "production").flags["new_checkout"]
    assert production.scopes == () and production.release_id == release.id

    service.act(Command(release.id or 0, Action.ABORT, ENGINEER, phase=0, reason="x"), NOW)
    eventually(lambda: view(snapshot, "staging").flags["new_checkout"].release_id is None)


def test_the_etag_changes_with_the_content_only(
    database: Database, snapshot: Snapshot, service: ReleaseService
) -> None:
    before = {env: view(snapshot, env).etag for env in ("staging", "production")}
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    eventually(lambda: view(snapshot, "staging").etag != before["staging"])
    release = service.start_release("new_checkout", True, TRIGGERER, NOW)
    eventually(lambda: snapshot.revision is not None and view(snapshot, "staging").flags[
        "new_checkout"].release_id == release.id)
    second = Snapshot(database, ("staging", "production"))
    second.refresh()
    assert all(view(second, env).etag == view(snapshot, env).etag
               for env in ("staging", "production")), "every replica tags the same state alike"
    assert not second.refresh(), "nothing changed, nothing reloaded"


def test_a_waiter_wakes_on_the_next_change(snapshot: Snapshot, service: ReleaseService) -> None:
    etag = view(snapshot, "production").etag
    woke: list[str] = []
    waiter = threading.Thread(
        target=lambda: woke.append(snapshot.wait_for_change("production", etag, GENEROUS).etag))
    waiter.start()
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    waiter.join()
    assert woke and woke[0] != etag


def test_a_commit_on_one_replica_is_served_by_another(database_url: str,
                                                       database: Database) -> None:
    """Two replicas' worth of parts on one database: a service on one, a snapshot on each."""
    databases = [open_database(database_url) for _ in range(2)]
    snapshots = [Snapshot(db, ("staging", "production"), poll_seconds=0.05) for db in databases]
    for snap in snapshots:
        snap.start()
    try:
        writer = ReleaseService(databases[0].uow, {"standard": standard_pipeline()}, team())
        writer.create_flag("new_checkout", FlagKind.CONFIG, "standard", {"v": 1}, TRIGGERER, NOW)
        writer.start_release("new_checkout", {"v": 2}, TRIGGERER, NOW)
        reader = snapshots[-1]
        eventually(lambda: "new_checkout" in view(reader, "staging").flags
                   and view(reader, "staging").flags["new_checkout"].new_value == {"v": 2})
    finally:
        for snap, db in zip(snapshots, databases, strict=True):
            snap.stop()
            db.dispose()


def test_a_database_that_fails_leaves_the_last_state_served_and_says_so_once(
    database: Database, service: ReleaseService, caplog: pytest.LogCaptureFixture
) -> None:
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    snapshot = Snapshot(database, ("staging",), poll_seconds=0.01)
    snapshot.start()
    try:
        assert "new_checkout" in view(snapshot, "staging").flags
        with database.engine.begin() as connection:  # the counter goes: every poll fails
            connection.exec_driver_sql("ALTER TABLE served_revision RENAME TO away")
        eventually(lambda: "cannot reload" in caplog.text)
        time.sleep(0.1)  # ten more failed polls
        assert caplog.text.count("cannot reload") == 1
        assert "new_checkout" in view(snapshot, "staging").flags, "the last state is served"
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE away RENAME TO served_revision")
        eventually(lambda: "reads the database again" in caplog.text)
    finally:
        snapshot.stop()
