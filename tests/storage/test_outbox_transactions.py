"""Notifications are queued in the same transaction as the change that caused them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from release_bot.core.errors import ConcurrentUpdate
from release_bot.core.models import NoticeKind, Notification, ReleaseState
from release_bot.storage import Database, OutboxStatus
from release_bot.storage.delivery import SqlDeliveryQueue
from tests.support.samples import NOW, baking_release, sample_flag, store_flag

PAUSED = Notification(NoticeKind.STATUS_CHANGED, {"phase": 0})


def stored_release_id(database: Database) -> int:
    """Id of a committed baking release of the sample flag."""
    store_flag(database, sample_flag())
    with database.uow() as uow:
        release = uow.releases.add(baking_release("new_checkout", NOW + timedelta(minutes=30)))
        uow.commit()
    assert release.id is not None
    return release.id


def pause_and_notify(database: Database, release_id: int, *, commit: bool) -> None:
    """Pause the release and queue its notification in one unit of work."""
    with database.uow() as uow:
        release = uow.releases.get(release_id)
        assert release is not None
        uow.releases.save(replace(release, state=ReleaseState.PAUSED))
        uow.outbox.put(release_id, "C0RELEASES", PAUSED, NOW)
        if commit:
            uow.commit()


def state_and_outbox(database: Database, release_id: int) -> tuple[ReleaseState, int]:
    """The release's state and how many messages are queued."""
    with database.uow() as uow:
        release = uow.releases.get(release_id)
        assert release is not None
        return release.state, len(uow.outbox.list())


def test_an_uncommitted_change_leaves_neither_the_change_nor_its_message(
    database: Database,
) -> None:
    release_id = stored_release_id(database)
    pause_and_notify(database, release_id, commit=False)
    assert state_and_outbox(database, release_id) == (ReleaseState.BAKING, 0)


def test_an_explicit_rollback_drops_both(database: Database) -> None:
    release_id = stored_release_id(database)
    with database.uow() as uow:
        release = uow.releases.get(release_id)
        assert release is not None
        uow.releases.save(replace(release, state=ReleaseState.PAUSED))
        uow.outbox.put(release_id, "C0RELEASES", PAUSED, NOW)
        uow.rollback()
        uow.commit()
    assert state_and_outbox(database, release_id) == (ReleaseState.BAKING, 0)


def test_a_committed_change_keeps_both(database: Database) -> None:
    release_id = stored_release_id(database)
    pause_and_notify(database, release_id, commit=True)
    assert state_and_outbox(database, release_id) == (ReleaseState.PAUSED, 1)


def test_a_lost_compare_and_swap_queues_nothing(database: Database) -> None:
    release_id = stored_release_id(database)
    with database.uow() as uow:
        stale = uow.releases.get(release_id)
    pause_and_notify(database, release_id, commit=True)
    assert stale is not None
    with database.uow() as uow:
        uow.outbox.put(release_id, "C0RELEASES", PAUSED, NOW)
        with pytest.raises(ConcurrentUpdate):
            uow.releases.save(replace(stale, state=ReleaseState.ABORTED, ended_at=NOW))
    assert state_and_outbox(database, release_id) == (ReleaseState.PAUSED, 1)


def test_messages_are_claimed_marked_sent_or_failed(database: Database) -> None:
    release_id = stored_release_id(database)
    notes = [Notification(NoticeKind.ACTION_TAKEN, {"phase": 0, "action": "pause"}),
             PAUSED, Notification(NoticeKind.COMPLETED, {"phase": 2})]
    with database.uow() as uow:
        for note in notes:
            uow.outbox.put(release_id, "C0RELEASES", note, NOW)
        uow.commit()
    queue = SqlDeliveryQueue(database)
    claimed = queue.claim("worker-a", NOW, limit=2)
    assert [m.notification for m in claimed] == notes[:2]
    assert all(m.status is OutboxStatus.PENDING and m.attempts == 0 for m in claimed)
    assert queue.claim("worker-b", NOW, limit=10) == [], "the release's oldest row is leased"
    queue.mark_sent([claimed[0].id], NOW)
    queue.mark_failed(claimed[1].id, "channel_not_found", NOW)
    assert [m.notification for m in queue.claim("worker-b", NOW, limit=10)] == notes[2:]
    with database.uow() as uow:
        sent = uow.outbox.list(OutboxStatus.SENT)
        failed = uow.outbox.list(OutboxStatus.FAILED)
        every = uow.outbox.list()
    assert [(m.id, m.attempts, m.last_error) for m in sent] == [(claimed[0].id, 1, None)]
    assert [(m.id, m.attempts, m.last_error) for m in failed] == [
        (claimed[1].id, 1, "channel_not_found")
    ]
    assert [m.status for m in every] == [OutboxStatus.SENT, OutboxStatus.FAILED,
                                         OutboxStatus.PENDING]
    assert every[0].created_at == NOW and every[0].channel == "C0RELEASES"
