"""Webhook delivery: outbox rows POSTed in order per release and endpoint, signed, retried."""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from math import floor
from typing import Protocol

from release_bot.bot.webhooks.body import event_body
from release_bot.bot.webhooks.secrets import MissingSecret, signer
from release_bot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)
# how long `stop()` waits for the requests in hand
STOP_TIMEOUT_SECONDS = 3.0
# a worker gives back the rest of a batch after this long, well inside the queue's 2-minute lease
BATCH_SECONDS = 30.0


class WebhookQueue(Protocol):
    """The storage side: claiming webhook rows and recording how each attempt went."""

    def claim(self, worker: str, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Due webhook rows, leased to this worker, oldest first."""
        ...

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """These rows were delivered."""
        ...

    def fail_behind(self, message: OutboxMessage, error: str, now: datetime) -> None:
        """This row failed for good, and the later ones of its release and target with it."""
        ...

    def retry_later(self, ids: Sequence[int], error: str, at: datetime) -> None:
        """Try these rows again at `at`."""
        ...

    def unclaim(self, ids: Sequence[int]) -> None:
        """Give back rows claimed but not tried."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts, doubling from `first` up to `longest`; after `attempts`
    failures in a row the endpoint is given up on for that release."""

    first: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(minutes=15)
    attempts: int = 20  # about 3 hours of trying

    def wait(self, attempts_before: int, retry_after: str | None) -> timedelta:
        """How long to wait after a failed attempt (the receiver's Retry-After, if it said)."""
        try:
            asked = timedelta(seconds=max(0.0, float(retry_after or "")))
        except ValueError:
            asked = self.first * 2 ** min(attempts_before, 20)
        return min(asked, self.longest)


class _Failed(Exception):
    """One attempt failed; `final` when trying again cannot help."""

    def __init__(self, error: str, *, retry_after: str | None = None,
                 final: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after
        self.final = final


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: a signed POST is not replayed at another address."""

    def redirect_request(self, req: urllib.request.Request, fp: object, code: int, msg: str,
                         headers: Message, newurl: str) -> None:
        """Follow no redirect."""
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: str, headers: Mapping[str, str], timeout: float) -> None:
    """POST the body; _Failed unless the endpoint answers 2xx."""
    request = urllib.request.Request(
        url, data=body.encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "release-bot", **headers},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(64 * 1024)
    except urllib.error.HTTPError as error:
        with error:
            # 410 Gone: the receiver says it wants no more (as the Standard Webhooks spec reads)
            raise _Failed(f"HTTP {error.code}", retry_after=error.headers.get("Retry-After"),
                          final=error.code == 410) from None
    except (OSError, ValueError) as error:  # refused, reset, timed out, a bad address
        raise _Failed(type(error).__name__ + (f": {error}" if str(error) else "")) from None


class WebhookDeliverer:
    """Sends webhook rows from worker threads, polling and woken by their doorbell."""

    def __init__(
        self,
        queue: WebhookQueue,
        clock: Callable[[], datetime],
        worker: str,
        environ: Mapping[str, str],
        doorbell: threading.Event,
        *,
        policy: RetryPolicy | None = None,
        threads: int = 2,
        interval: float = 1.0,
        batch: int = 20,
        timeout: float = 10.0,
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.worker = worker
        self.environ = environ
        self.policy = policy or RetryPolicy()
        self.interval = interval
        self.batch = batch
        self.timeout = timeout
        self._wake = doorbell
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"webhooks-{n}", daemon=True)
            for n in range(threads)
        ]

    def start(self) -> None:
        """Run the delivery loops in daemon threads."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Finish the requests in hand, give back the rest, and stop (within `timeout`)."""
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
                log.exception("webhook delivery failed; retrying at the next poll")

    def deliver_once(self) -> int:
        """Claim and send one batch, each release's rows to each endpoint in order; returns how
        many rows it claimed."""
        batch = self.queue.claim(self.worker, self.clock(), self.batch)
        deadline = time.monotonic() + BATCH_SECONDS
        streams: dict[tuple[int, str], list[OutboxMessage]] = {}
        for message in batch:
            streams.setdefault((message.release_id, message.target), []).append(message)
        for rows in streams.values():
            self._deliver_stream(rows, deadline)
        return len(batch)

    def _deliver_stream(self, rows: list[OutboxMessage], deadline: float) -> None:
        """Send rows of one release to one endpoint in order, stopping at the first failure."""
        done: list[int] = []
        try:
            for index, message in enumerate(rows):
                if self._stop.is_set() or time.monotonic() > deadline:
                    self.queue.unclaim([m.id for m in rows[index:]])
                    return
                try:
                    self._send(message)
                except _Failed as failure:
                    self._failed(message, failure)
                    self.queue.unclaim([m.id for m in rows[index + 1:]])
                    return
                done.append(message.id)
        finally:
            self.queue.mark_sent(done, self.clock())

    def _send(self, message: OutboxMessage) -> None:
        """Sign and POST one row: the same id and body every attempt, a fresh timestamp."""
        try:
            sign = signer(str(message.payload["secret_env"]), self.environ)
        except MissingSecret as error:
            raise _Failed(error.message, final=True) from None
        body = event_body(message.payload)
        message_id = str(message.payload["webhook_id"])
        now = self.clock()
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(floor(now.timestamp())),
            "webhook-signature": sign.sign(message_id, now, body),
        }
        post(message.target, body, headers, self.timeout)

    def _failed(self, message: OutboxMessage, failure: _Failed) -> None:
        """Retry later with backoff, or give the endpoint up for this release."""
        now = self.clock()
        if failure.final or message.attempts + 1 >= self.policy.attempts:
            log.warning("webhook #%s to %s failed for good: %s", message.id, message.target,
                        failure.error)
            self.queue.fail_behind(message, failure.error, now)
            return
        wait = self.policy.wait(message.attempts, failure.retry_after)
        log.info("webhook #%s to %s will be retried in %ss: %s", message.id, message.target,
                 wait.total_seconds(), failure.error)
        self.queue.retry_later([message.id], failure.error, now + wait)
