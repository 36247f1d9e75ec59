"""Every history event of a release reaches the pipeline's webhooks, signed, once, in order."""

from __future__ import annotations

import contextlib
import socket
import threading
from datetime import timedelta

import pytest

from release_bot.bot.webhooks.delivery import RetryPolicy, WebhookDeliverer
from release_bot.core.errors import DomainError
from release_bot.core.models import Action, Command
from release_bot.storage import Database
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.outbox import OutboxStatus, Stream
from tests.support.cli_support import Cli
from tests.support.samples import APPROVER_IDS, ENGINEER, MANAGER, TRIGGERER
from tests.support.webhook_receiver import SECRET, Receiver
from tests.webhooks.conftest import SECRET_ENV, Rig


def act(rig: Rig, release_id: int, action: Action, actor: str, phase: int,
        reason: str | None = None) -> None:
    """Carry out an action; a refusal is kept in the history and is an event too."""
    with contextlib.suppress(DomainError):
        rig.service.act(Command(release_id, action, actor, phase, reason), rig.clock())


def a_busy_release(rig: Rig) -> int:
    """Start a release and walk it through every kind of event, refusals included."""
    # it starts three hours ago, so that it is delivered at the real time, which the receiver
    # checks signatures against
    rig.clock.advance(-3 * 3600)
    rig.flag("checkout")
    release = rig.service.start_release("checkout", True, TRIGGERER, rig.clock())
    assert release.id is not None
    act(rig, release.id, Action.PAUSE, ENGINEER, 0)
    act(rig, release.id, Action.PAUSE, ENGINEER, 0)  # refused: already paused
    act(rig, release.id, Action.UNPAUSE, ENGINEER, 0)
    act(rig, release.id, Action.SKIP, TRIGGERER, 0)  # denied: not a release manager
    act(rig, release.id, Action.SKIP, MANAGER, 0)  # → waits for approval of phase 1
    act(rig, release.id, Action.APPROVE, APPROVER_IDS[0], 1)  # → phase 1 live
    rig.clock.advance(3 * 3600)  # back to the real time: the bake ends
    rig.service.advance_due(rig.clock())  # → waits for approval of phase 2
    act(rig, release.id, Action.FULL_ROLLOUT, MANAGER, 2)  # → completed
    return release.id


EXPECTED = [
    "release.started",
    "release.paused",
    "release.pause.refused",
    "release.unpaused",
    "release.skip.denied",
    "release.skipped",
    "release.approved",
    "release.awaiting_approval",
    "release.rolled_out",
]


def test_every_event_of_a_release_arrives_signed_in_order_as_the_history_says(
    rig: Rig, receiver: Receiver
) -> None:
    release_id = a_busy_release(rig)
    rig.deliver_all()
    delivered = receiver.delivered()
    assert [r.body["type"] for r in delivered] == EXPECTED
    assert receiver.bad_signatures == 0
    history = rig.service.history("checkout")
    assert [(r.body["data"]["action"], r.body["data"]["outcome"], r.body["data"]["message"])
            for r in delivered] == [(e.action, e.outcome.value, e.message)
                                    for e in history if e.release_id == release_id]
    assert {r.body["data"]["release"] for r in delivered} == {release_id}
    assert len({r.webhook_id for r in delivered}) == len(delivered)
    assert delivered[-1].body["data"]["to_state"] == "completed"


def test_a_receiver_down_for_a_while_loses_nothing_and_gets_nothing_out_of_order(
    database: Database, receiver: Receiver
) -> None:
    rig = Rig(database, [receiver.url], attempts=20)
    receiver.down = True
    release_id = a_busy_release(rig)
    rig.deliver(rounds=5)
    tried = list(receiver.requests)
    assert tried and all(r.answered == 503 for r in tried)
    # while down, only the oldest event is tried: the later ones wait behind it
    assert {r.webhook_id for r in tried} == {tried[0].webhook_id}
    slack = SqlDeliveryQueue(database).claim("slack-worker", rig.clock(), 100)
    assert slack and {m.target for m in slack} == {"slack"}  # Slack is not held up
    receiver.down = False
    rig.deliver_all()
    assert receiver.types() == EXPECTED
    assert receiver.delivered()[0].webhook_id == tried[0].webhook_id  # the same id, retried
    assert receiver.bad_signatures == 0
    assert {r.body["data"]["release"] for r in receiver.delivered()} == {release_id}


def test_a_receiver_that_keeps_failing_is_marked_failed_with_the_events_behind_it(
    rig: Rig, receiver: Receiver, database: Database, database_url: str
) -> None:
    receiver.down = True
    rig.flag("checkout")
    release = rig.service.start_release("checkout", True, TRIGGERER, rig.clock())
    assert release.id is not None
    act(rig, release.id, Action.PAUSE, ENGINEER, 0)
    rig.deliver_all()
    assert len(receiver.requests) == 4  # the policy's attempts, for the first event only
    with database.uow() as uow:
        failed = [m for m in uow.outbox.list(OutboxStatus.FAILED)]
    assert [(m.target, m.attempts, m.last_error) for m in failed] == [
        (receiver.url, 4, "HTTP 503"),
        (receiver.url, 0, f"not sent: #{failed[0].id} before it failed"),
    ]
    listed = Cli(database_url, None).ok("outbox", "list", "--failed").splitlines()
    assert listed == [
        f"#{failed[0].id}\trelease #{release.id}\tevent to {receiver.url}\tfailed"
        "\t4 attempt(s)\tHTTP 503",
        f"#{failed[1].id}\trelease #{release.id}\tevent to {receiver.url}\tfailed"
        f"\t0 attempt(s)\tnot sent: #{failed[0].id} before it failed",
        "2 row(s)",
    ]
    # the receiver is back: the release's next events are sent
    receiver.down = False
    act(rig, release.id, Action.UNPAUSE, ENGINEER, 0)
    rig.deliver_all()
    assert receiver.types() == ["release.unpaused"]


def test_each_endpoint_keeps_its_own_order_and_one_down_holds_up_no_other(
    database: Database, receiver: Receiver
) -> None:
    with Receiver() as other:
        rig = Rig(database, [receiver.url, other.url], attempts=20)
        other.down = True
        rig.flag("a")
        rig.flag("b")
        first = rig.service.start_release("a", True, TRIGGERER, rig.clock())
        second = rig.service.start_release("b", True, TRIGGERER, rig.clock())
        assert first.id is not None and second.id is not None
        act(rig, second.id, Action.PAUSE, ENGINEER, 0)
        act(rig, first.id, Action.ABORT, ENGINEER, 0, "bad numbers")
        rig.deliver(rounds=2)
        by_release = {(r.body["data"]["release"], r.body["type"]) for r in receiver.delivered()}
        assert by_release == {(first.id, "release.started"), (first.id, "release.aborted"),
                              (second.id, "release.started"), (second.id, "release.paused")}
        assert other.delivered() == []
        other.down = False
        rig.deliver_all()
        for release_id, types in ((first.id, ["release.started", "release.aborted"]),
                                  (second.id, ["release.started", "release.paused"])):
            for endpoint in (receiver, other):
                got = [r.body["type"] for r in endpoint.delivered()
                       if r.body["data"]["release"] == release_id]
                assert got == types
        assert [r.body["data"]["reason"] for r in other.delivered()
                if r.body["type"] == "release.aborted"] == ["bad numbers"]


def test_an_endpoint_nobody_listens_on_is_retried_like_an_outage(database: Database) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    rig = Rig(database, [f"http://127.0.0.1:{port}/hooks"], attempts=20)
    rig.flag("checkout")
    rig.service.start_release("checkout", True, TRIGGERER, rig.clock())
    rig.deliver(rounds=3)
    with database.uow() as uow:
        [row] = [m for m in uow.outbox.list() if m.target != "slack"]
    assert row.status is OutboxStatus.PENDING
    assert row.attempts >= 2
    assert row.last_error is not None and "refused" in row.last_error.lower()


def test_two_replicas_delivering_at_once_keep_each_release_in_order(
    database: Database, receiver: Receiver
) -> None:
    rig = Rig(database, [receiver.url], attempts=20)
    replicas = [
        WebhookDeliverer(SqlDeliveryQueue(database, Stream.WEBHOOKS), rig.clock, f"replica-{n}",
                         {SECRET_ENV: SECRET}, threading.Event(), interval=0.01, batch=3)
        for n in range(2)
    ]
    keys = [f"flag-{n}" for n in range(4)]
    for key in keys:
        rig.flag(key)
    for replica in replicas:
        replica.start()
    try:
        for key in keys:
            started = rig.service.start_release(key, True, TRIGGERER, rig.clock())
            assert started.id is not None
            for action in (Action.PAUSE, Action.UNPAUSE, Action.PAUSE, Action.UNPAUSE):
                act(rig, started.id, action, ENGINEER, 0)
        receiver.wait_for(4 * 5)
    finally:
        for replica in replicas:
            replica.stop()
    delivered = receiver.delivered()
    assert len(delivered) == 20 and len({r.webhook_id for r in delivered}) == 20
    for key in keys:
        assert [r.body["type"] for r in delivered if r.body["data"]["flag"] == key] == [
            "release.started", "release.paused", "release.unpaused", "release.paused",
            "release.unpaused",
        ]


@pytest.mark.parametrize("retry_after", ["inf", "1e20", "99999999999999", "nan", "-5", "soon"])
def test_a_retry_after_beyond_reason_falls_back_to_the_policy(retry_after: str) -> None:
    """A receiver's Retry-After never stops a row from being retried or given up on."""
    policy = RetryPolicy(first=timedelta(seconds=5), longest=timedelta(minutes=15))
    wait = policy.wait(2, retry_after)
    assert timedelta(0) <= wait <= timedelta(minutes=15)
    assert policy.wait(0, "30") == timedelta(seconds=30)
