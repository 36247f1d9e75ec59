"""`serve` without Slack: the Slack notifications the core queues are dropped, not kept.

Kept, they would pile up for a Slack that may never come, and a Slack turned on later would
replay old news. A release's status message is posted at its next change once Slack is on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from release_bot.storage.delivery import SqlDeliveryQueue

NOT_POSTED = "not posted: serve ran without Slack credentials"

log = logging.getLogger(__name__)


class OutboxDrain:
    """Marks queued Slack notifications dropped whenever the doorbell rings (or each second)."""

    def __init__(
        self,
        queue: SqlDeliveryQueue,
        doorbell: threading.Event,
        clock: Callable[[], datetime],
        interval: float = 1.0,
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.interval = interval
        self._wake = doorbell
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox-drain", daemon=True)

    def start(self) -> None:
        """Drain from a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the drain in hand."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.queue.drop_pending(NOT_POSTED, self.clock())
            except Exception:  # noqa: BLE001 — the loop must survive anything and retry later
                log.exception("dropping Slack notifications failed; retrying at the next poll")
            self._wake.wait(self.interval)
            self._wake.clear()
