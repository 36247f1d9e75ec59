"""APScheduler in `serve`: sweeps for due bake timers and reminders, kept in the database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from release_bot.core.durations import format_duration
from release_bot.core.models import Release
from release_bot.core.service import SWEEP_CHUNK, ReleaseService
from release_bot.core.sweeps import OnStuck, SweepFailure

log = logging.getLogger(__name__)
# APScheduler logs every run of a job at INFO: two lines a second for the sweep. Its warnings
# (missed or overlapping runs) still show.
logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)


class Sweeper:
    """Ends due bake timers and sends due reminders; wakes delivery on change.

    A sweep runs every `interval` seconds (so timers set by other processes are seen) and, in
    between, exactly when the earliest known timer falls. Each sweep drains what is due in
    chunks of SWEEP_CHUNK releases, each chunk stamped with the time it ran. A release that
    fails to move is logged and left out until its retry time; the rest move regardless.
    """

    def __init__(
        self,
        service: ReleaseService,
        clock: Callable[[], datetime],
        on_change: Callable[[], None],
        interval: float = 1.0,
    ) -> None:
        self.service = service
        self.clock = clock
        self.on_change = on_change
        self.interval = timedelta(seconds=interval)
        self._running = threading.Lock()
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(
            self.sweep, "interval", seconds=interval, id="sweep", max_instances=1, coalesce=True
        )

    def sweep(self) -> int:
        """Advance due timers and send due reminders; returns how many releases changed."""
        if not self._running.acquire(blocking=False):
            return 0  # the sweep in hand drains everything and schedules the next one
        try:
            moved = sum(
                self._drain(step) for step in (self.service.advance_due, self.service.remind_due)
            )
            self._schedule_next()
        except Exception:  # noqa: BLE001 — a failed sweep is retried by the next one
            log.exception("sweep failed")
            return 0
        finally:
            self._running.release()
        return moved

    def _drain(self, step: Callable[[datetime, int, OnStuck], list[Release]]) -> int:
        """Apply a timed step chunk by chunk until nothing is due."""
        total = 0
        while True:
            moved = step(self.clock(), SWEEP_CHUNK, self._stuck)
            total += len(moved)
            if moved:
                self.on_change()
            if len(moved) < SWEEP_CHUNK:
                return total

    @staticmethod
    def _stuck(failure: SweepFailure, error: Exception) -> None:
        """Log a release the sweep failed on: one line per failure, so one per backoff step,
        with the traceback the first time only."""
        log.warning(
            "release #%d could not be swept (failure %d in a row): %s — next try in %s, at %s; "
            "see 'release-bot release list --stuck'",
            failure.release_id, failure.failures, failure.error,
            format_duration(failure.backoff), failure.retry_at.isoformat(timespec="seconds"),
            exc_info=error if failure.failures == 1 else None,
        )

    def _schedule_next(self) -> None:
        """Sweep again right when the earliest timer falls, if that is before the next tick."""
        if not self.scheduler.running:
            return
        due = self.service.next_due()
        now = self.clock()
        if due is None or due > now + self.interval:
            return
        self.scheduler.add_job(
            self.sweep,
            "date",
            run_date=max(due, now),
            id="next-due",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def start(self) -> None:
        """Start the background scheduler."""
        self.scheduler.start()

    def stop(self) -> None:
        """Stop, letting the sweep in hand finish."""
        self.scheduler.shutdown(wait=True)
