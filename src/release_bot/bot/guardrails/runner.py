"""The guardrail runner: claims due checks, asks Prometheus, records what it saw.

It runs on threads of its own — one that claims, a pool that measures — so a slow Prometheus
never delays the timer sweeps or Slack's acknowledgements. Checks are claimed with a lease in
the database, so several replicas share them without measuring one twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from release_bot.bot.guardrails.prometheus import Prometheus
from release_bot.core.guardrails import DueCheck, Measurement
from release_bot.core.service import ReleaseService
from release_bot.storage.checks import SqlCheckQueue

log = logging.getLogger(__name__)
WORKERS = 16  # measurements at once; at 50 ms a query, 16 keep up with 300 checks a second
POLL_SECONDS = 0.2  # how often to look for due checks when none is waiting


class GuardrailRunner:
    """Measures every due check of every live phase of active releases."""

    def __init__(
        self,
        service: ReleaseService,
        queue: SqlCheckQueue,
        prometheus: Prometheus,
        clock: Callable[[], datetime],
        on_change: Callable[[], None],
        workers: int = WORKERS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.service = service
        self.queue = queue
        self.prometheus = prometheus
        self.clock = clock
        self.on_change = on_change
        self.workers = workers
        self.poll = poll
        self._free = threading.Semaphore(workers)
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="guardrail")
        self._thread = threading.Thread(target=self._claim_loop, name="guardrails", daemon=True)

    def start(self) -> None:
        """Start claiming and measuring."""
        self._thread.start()

    def stop(self) -> None:
        """Stop claiming; let the measurements in hand finish."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True)

    def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            if self.claim_once() == 0:
                self._stopping.wait(self.poll)

    def claim_once(self) -> int:
        """Claim as many due checks as there are free workers and hand them out; how many."""
        slots = 0
        while slots < self.workers and self._free.acquire(blocking=False):
            slots += 1
        due: list[DueCheck] = []
        try:
            if slots:
                due = list(self.queue.claim(self.clock(), slots))
        except Exception:  # noqa: BLE001 — the next poll tries again
            log.exception("could not claim due checks")
        for _ in range(slots - len(due)):
            self._free.release()
        for check in due:
            self._pool.submit(self._measure, check)
        return len(due)

    def _measure(self, due: DueCheck) -> None:
        """Ask Prometheus, then record the reading (and whatever it makes the release do)."""
        try:
            reading = self.prometheus.query(due.query)
            now = self.clock()
            measurement = Measurement(reading.value, now, reading.detail)
            if self.service.record_measurement(due, measurement, now):
                self.on_change()
        except Exception:  # noqa: BLE001 — one check's fault is its own; the lease retries it
            log.exception("check %r of release #%d could not be recorded", due.name,
                          due.release_id)
        finally:
            self._free.release()
