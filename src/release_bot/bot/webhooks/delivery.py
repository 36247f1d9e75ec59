"""Webhook delivery: outbox rows POSTed in order per release and endpoint, signed, retried."""

from __future__ import annotations

import logging
import math
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from math import floor
from typing import Protocol

from release_bot.bot.runtime.outbox_workers import OutboxQueue, OutboxWorkers
from release_bot.bot.webhooks.body import event_body
from release_bot.bot.webhooks.secrets import MissingSecret, signer
from release_bot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)


class WebhookQueue(OutboxQueue, Protocol):
    """The storage side of webhook delivery: the outbox stream, and giving an endpoint up."""

    def fail_behind(self, message: OutboxMessage, error: str, now: datetime) -> None:
        """This row failed for good, and the later ones of its release and target with it."""
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
            seconds = float(retry_after or "")
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds):  # absent, not a number, or inf/nan: our own backoff
            return min(self.first * (1 << min(attempts_before, 20)), self.longest)
        return timedelta(seconds=min(max(seconds, 0.0), self.longest.total_seconds()))


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


class WebhookDeliverer(OutboxWorkers[WebhookQueue]):
    """Sends webhook rows, each release's rows to each endpoint in order, signed and retried."""

    thread_name = "webhooks"
    what = "webhook"

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
        super().__init__(queue, clock, worker, doorbell, threads=threads, interval=interval,
                         batch=batch)
        self.environ = environ
        self.policy = policy or RetryPolicy()
        self.timeout = timeout

    def _group(self, message: OutboxMessage) -> tuple[int, str]:
        """A release's rows to one endpoint go in order."""
        return message.release_id, message.target

    def _deliver_group(self, rows: list[OutboxMessage], deadline: float) -> None:
        """Send rows of one release to one endpoint in order, stopping at the first failure."""
        done: list[int] = []
        try:
            for index, message in enumerate(rows):
                if self._give_back(deadline):
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
