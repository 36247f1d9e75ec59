"""APScheduler in `serve`: sweeps for due bake timers (the timers live in the database)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from release_bot.core.service import ReleaseService

log = logging.getLogger(__name__)
# APScheduler logs every run of a job at INFO: two lines a second for the sweep. Its warnings
# (missed or overlapping runs) still show.
logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)


class Sweeper:
    """Ends due bake timers and sends due reminders once a second; wakes delivery on change."""

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
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=interval,
            id="advance-due",
            max_instances=1,
            coalesce=True,
        )

    def sweep(self) -> int:
        """Advance due timers and send due reminders; returns how many releases changed."""
        try:
            now = self.clock()
            moved = self.service.advance_due(now) + self.service.remind_due(now)
        except Exception:  # noqa: BLE001 — a failed sweep is retried by the next one
            log.exception("sweep failed")
            return 0
        if moved:
            self.on_change()
        return len(moved)

    def start(self) -> None:
        """Start the background scheduler."""
        self.scheduler.start()

    def stop(self) -> None:
        """Stop, letting the sweep in hand finish."""
        self.scheduler.shutdown(wait=True)
