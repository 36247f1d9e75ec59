"""Outbox worker threads: claim a batch, send it group by group, give back what is left."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import ClassVar, Generic, Protocol, TypeVar

from release_bot.storage.outbox import OutboxMessage

# how long `stop()` waits for the messages in hand; a process being stopped should go quickly
STOP_TIMEOUT_SECONDS = 3.0
# A worker gives back what is left of a batch after this long, well inside the queue's lease
# (2 minutes): were the lease to run out while rows are still being sent, another worker would
# claim and send them again.
BATCH_SECONDS = 30.0


class OutboxQueue(Protocol):
    """The claim side of an outbox stream: leased rows, and how each attempt went."""

    def claim(self, worker: str, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Pending rows due at now, leased to this worker, oldest first."""
        ...

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """These rows were delivered."""
        ...

    def retry_later(self, ids: Sequence[int], error: str, at: datetime) -> None:
        """Release these rows for another attempt at `at`."""
        ...

    def unclaim(self, ids: Sequence[int]) -> None:
        """Give back rows that were claimed but not tried, for any worker to take at once."""
        ...


Q = TypeVar("Q", bound=OutboxQueue)


class OutboxWorkers(ABC, Generic[Q]):
    """Worker threads that poll an outbox stream, woken at once by its doorbell."""

    # the threads are named `<thread_name>-<n>`; a failed poll is logged as `what`'s, under the
    # subclass's module
    thread_name: ClassVar[str]
    what: ClassVar[str]

    def __init__(
        self,
        queue: Q,
        clock: Callable[[], datetime],
        worker: str,
        doorbell: threading.Event,
        *,
        threads: int,
        interval: float,
        batch: int,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.worker = worker
        self.interval = interval
        self.batch = batch
        self.batch_seconds = batch_seconds
        self._wake = doorbell
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"{self.thread_name}-{n}", daemon=True)
            for n in range(threads)
        ]

    def start(self) -> None:
        """Run the delivery loops in daemon threads."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Finish the messages in hand, give back the rest of the batches, and stop.

        `timeout` bounds the whole stop, not each thread: a thread stuck in a hanging call is
        left behind (it is a daemon) and its row is retried once its lease runs out.
        """
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                while self.deliver_once() and not self._stop.is_set():
                    pass
            except Exception:  # noqa: BLE001 — the loop must survive anything and retry later
                logging.getLogger(type(self).__module__).exception(
                    "%s delivery failed; retrying at the next poll", self.what
                )

    def deliver_once(self) -> int:
        """Claim and send one batch, group by group in order; returns how many rows it claimed."""
        batch = self.queue.claim(self.worker, self.clock(), self.batch)
        deadline = time.monotonic() + self.batch_seconds
        grouped: dict[Hashable, list[OutboxMessage]] = {}
        for message in batch:
            grouped.setdefault(self._group(message), []).append(message)
        groups = list(grouped.values())
        for index, rows in enumerate(groups):
            if self._give_back(deadline):
                self.queue.unclaim([m.id for later in groups[index:] for m in later])
                break
            self._deliver_group(rows, deadline)
        return len(batch)

    def _give_back(self, deadline: float) -> bool:
        """True when the rest of the batch should go back to the queue untried: stopping, or
        the batch has taken so long that its lease could run out before it is done."""
        return self._stop.is_set() or time.monotonic() > deadline

    @abstractmethod
    def _group(self, message: OutboxMessage) -> Hashable:
        """The key of the rows that must be sent in order, one after another."""

    @abstractmethod
    def _deliver_group(self, rows: list[OutboxMessage], deadline: float) -> None:
        """Send one group's rows in order, giving back the rest once `_give_back(deadline)`."""
