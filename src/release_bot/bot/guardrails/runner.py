"""The guardrail runner: claims due checks, asks Prometheus, records what it saw.

It runs on threads of its own — one that claims, a pool that asks Prometheus, one that records
— so a slow Prometheus never delays the timer sweeps or Slack's acknowledgements. Checks are
claimed with a lease in the database, so several replicas share them without measuring one
twice. Answers are recorded in batches, one transaction for all the answers in hand: the
queries run side by side, the writes one after another.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from release_bot.bot.guardrails.prometheus import Prometheus
from release_bot.core.guardrails import DueCheck, Measurement
from release_bot.core.service import ReleaseService
from release_bot.storage.checks import SqlCheckQueue

log = logging.getLogger(__name__)
WORKERS = 16  # queries at once; at 50 ms a query, 16 keep up with some 300 checks a second
POLL_SECONDS = 0.2  # how often to look for due checks when none is waiting
GATHER_SECONDS = 0.02  # pause after a claim, so that the next one takes several checks at once
BATCH = 100  # answers recorded in one transaction, at most

_Answer = tuple[DueCheck, Measurement]


class GuardrailRunner:
    """Measures every due check of every live phase of active releases."""

    def __init__(
        self,
        service: ReleaseService,
        checks: SqlCheckQueue,
        prometheus: Prometheus,
        clock: Callable[[], datetime],
        on_change: Callable[[], None],
        workers: int = WORKERS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.service = service
        self.checks = checks
        self.prometheus = prometheus
        self.clock = clock
        self.on_change = on_change
        self.workers = workers
        self.poll = poll
        self._free = threading.Semaphore(workers)
        self._stopping = threading.Event()
        self._answers: queue.Queue[_Answer | None] = queue.Queue()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="guardrail")
        self._claimer = threading.Thread(target=self._claim_loop, name="guardrails", daemon=True)
        self._recorder = threading.Thread(target=self._record_loop, name="guardrails-record",
                                          daemon=True)

    def start(self) -> None:
        """Start claiming, measuring and recording."""
        self._recorder.start()
        self._claimer.start()

    def stop(self) -> None:
        """Stop claiming; finish the queries in hand and record their answers."""
        self._stopping.set()
        if self._claimer.is_alive():
            self._claimer.join()
        self._pool.shutdown(wait=True)
        self._answers.put(None)
        if self._recorder.is_alive():
            self._recorder.join()

    def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            if not self._free.acquire(timeout=self.poll):
                continue  # every worker is busy: claim as soon as one is free
            self._free.release()
            if self.claim_once() == 0:
                self._stopping.wait(self.poll)
            else:
                time.sleep(GATHER_SECONDS)

    def claim_once(self) -> int:
        """Claim as many due checks as there are free workers and hand them out; how many."""
        slots = 0
        while slots < self.workers and self._free.acquire(blocking=False):
            slots += 1
        due: list[DueCheck] = []
        try:
            if slots:
                due = list(self.checks.claim(self.clock(), slots))
        except Exception:  # noqa: BLE001 — the next poll tries again
            log.exception("could not claim due checks")
        for _ in range(slots - len(due)):
            self._free.release()
        for check in due:
            self._pool.submit(self._measure, check)
        return len(due)

    def _measure(self, due: DueCheck) -> None:
        """Ask Prometheus; the answer goes to the recorder."""
        try:
            reading = self.prometheus.query(due.query)
            self._answers.put((due, Measurement(reading.value, self.clock(), reading.detail)))
        except Exception:  # noqa: BLE001 — one check's fault is its own; the lease retries it
            log.exception("check %r of release #%d could not be measured", due.name,
                          due.release_id)
        finally:
            self._free.release()

    def _record_loop(self) -> None:
        """Record answers as they come, those in hand together, until stop() says done."""
        later: list[_Answer] = []
        while True:
            first = later.pop(0) if later else self._answers.get()
            if first is None:
                return
            batch, releases, done = [first], {first[0].release_id}, False
            while len(batch) < BATCH and not done:
                try:
                    answer = self._answers.get_nowait()
                except queue.Empty:
                    break
                if answer is None:
                    done = True
                elif answer[0].release_id in releases:
                    later.append(answer)  # one answer per release a transaction
                else:
                    batch.append(answer)
                    releases.add(answer[0].release_id)
            self._record(batch)
            if done:
                for answer in later:
                    self._record([answer])
                return

    def _record(self, batch: list[_Answer]) -> None:
        """One transaction for the batch; if it fails, one each, so one fault stays its own."""
        try:
            told = self.service.record_measurements(batch, self.clock())
        except Exception:  # noqa: BLE001 — found again below, one answer at a time
            told = False
            for due, measurement in batch:
                try:
                    told = self.service.record_measurement(due, measurement, self.clock()) or told
                except Exception:  # noqa: BLE001 — the lease measures it again
                    log.exception("check %r of release #%d could not be recorded", due.name,
                                  due.release_id)
        if told:
            self.on_change()
