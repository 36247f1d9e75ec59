"""A release service whose pipeline sends its events to a local verifying receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from release_bot.bot.webhooks.delivery import RetryPolicy, WebhookDeliverer
from release_bot.core.models import FlagKind, Webhook
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.outbox import Stream
from tests.support.samples import TRIGGERER, standard_pipeline, team
from tests.support.webhook_receiver import SECRET, Receiver

SECRET_ENV = "RELEASE_HOOK_SECRET"


class Clock:
    """A clock the test moves; it starts at the real time, as signatures are checked by it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time on."""
        self.now += timedelta(seconds=seconds)


class Rig:
    """The service and a deliverer driven by hand, for a pipeline with webhooks to `urls`."""

    def __init__(self, database: Database, urls: list[str], attempts: int) -> None:
        self.database = database
        self.clock = Clock()
        hooks = tuple(Webhook(url, SECRET_ENV) for url in urls)
        pipeline = replace(standard_pipeline(), webhooks=hooks)
        self.service = ReleaseService(database.uow, {"standard": pipeline}, team())
        policy = RetryPolicy(first=timedelta(seconds=1), longest=timedelta(seconds=8),
                             attempts=attempts)
        self.deliverer = WebhookDeliverer(
            SqlDeliveryQueue(database, Stream.WEBHOOKS), self.clock, "test-worker",
            {SECRET_ENV: SECRET}, threading.Event(), policy=policy, timeout=5,
        )

    def flag(self, key: str) -> None:
        """Create a gate on the pipeline."""
        self.service.create_flag(key, FlagKind.GATE, "standard", False, TRIGGERER, self.clock())

    def deliver(self, rounds: int = 1) -> None:
        """Claim and send until nothing is due, `rounds` times, a second apart."""
        for _ in range(rounds):
            while self.deliverer.deliver_once():
                pass
            self.clock.advance(1)

    def deliver_all(self, limit: int = 60) -> None:
        """Deliver, moving the clock on past each backoff, until nothing is pending."""
        for _ in range(limit):
            self.deliver()
            with self.database.uow() as uow:
                if not [m for m in uow.outbox.list() if m.target != "slack"
                        and m.status.value == "pending"]:
                    return
            self.clock.advance(8)
        raise AssertionError("webhook rows still pending")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver that is up."""
    with Receiver() as running:
        yield running


@pytest.fixture
def rig(database: Database, receiver: Receiver) -> Rig:
    """A service whose pipeline sends to `receiver`, giving up after 4 attempts."""
    return Rig(database, [receiver.url], attempts=4)
