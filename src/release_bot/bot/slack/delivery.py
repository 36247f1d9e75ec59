"""Outbox delivery: post and update status messages and thread replies once their change commits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.slack.blocks import (
    ReleaseSnapshot,
    action_reply_text,
    approval_needed_text,
    ending_text,
    escalation_text,
    reminder_text,
    status_blocks,
    status_text,
)
from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.pacing import Pacer
from release_bot.core.errors import DomainError
from release_bot.core.models import Action, NoticeKind
from release_bot.core.policy import is_user_id
from release_bot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "msg_too_long",
        "invalid_blocks",
        "invalid_arguments",
        "message_not_found",
        "cant_update_message",
        "restricted_action",
    }
)
MAX_BACKOFF = timedelta(minutes=5)


class DeliveryQueue(Protocol):
    """The storage side of delivery: claiming rows and remembering where messages live."""

    def claim(self, worker: str, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Pending rows due at now, locked for this worker, oldest first."""
        ...

    def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """These rows were delivered."""
        ...

    def mark_failed(self, message_id: int, error: str, now: datetime) -> None:
        """This row can never be delivered; keep it for `outbox list --failed`."""
        ...

    def retry_later(self, ids: Sequence[int], error: str, at: datetime) -> None:
        """Release these rows for another attempt at `at`."""
        ...

    def status_message(self, release_id: int) -> tuple[str, str] | None:
        """(channel, ts) of the release's status message, once posted."""
        ...

    def set_status_message(self, release_id: int, channel: str, ts: str) -> None:
        """Remember where the release's status message was posted."""
        ...


class Deliverer:
    """Sends outbox rows to Slack from worker threads, woken at once by their doorbell."""

    def __init__(
        self,
        queue: DeliveryQueue,
        client: WebClient,
        ctx: SlackContext,
        doorbell: threading.Event,
        worker: str,
        *,
        threads: int = 4,
        interval: float = 1.0,
        batch: int = 20,
        pacer: Pacer | None = None,
    ) -> None:
        self.queue = queue
        self.client = client
        self.ctx = ctx
        self.clock = ctx.clock
        self.worker = worker
        self.interval = interval
        self.batch = batch
        self.pacer = pacer or Pacer()
        self._wake = doorbell
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"outbox-{n}", daemon=True)
            for n in range(threads)
        ]

    def start(self) -> None:
        """Run the delivery loops in daemon threads."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batches in hand and stop."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                while self.deliver_once() and not self._stop.is_set():
                    pass
            except Exception:  # noqa: BLE001 — the loop must survive anything and retry later
                log.exception("outbox delivery failed; retrying at the next poll")

    def deliver_once(self) -> int:
        """Claim and send one batch; returns how many rows it handled."""
        batch = self.queue.claim(self.worker, self.clock(), self.batch)
        by_release: dict[int, list[OutboxMessage]] = {}
        for message in batch:
            by_release.setdefault(message.release_id, []).append(message)
        for rows in by_release.values():
            self._deliver_release(rows)
        return len(batch)

    def _deliver_release(self, rows: list[OutboxMessage]) -> None:
        """Send one release's rows in order; several status updates become one chat.update."""
        last_update = max(
            (i for i, m in enumerate(rows) if m.kind is NoticeKind.STATUS_CHANGED), default=-1
        )
        done: list[int] = []
        snap = None
        try:
            for index, message in enumerate(rows):
                if message.kind is NoticeKind.STATUS_CHANGED and index != last_update:
                    done.append(message.id)
                    continue
                try:
                    snap = snap or self.ctx.snapshot(self.ctx.service.release(message.release_id))
                    self._send(message, snap)
                except SlackApiError as error:
                    if self._handle_failure(message, rows[index:], error):
                        return
                    continue
                except DomainError as error:
                    self.queue.mark_failed(message.id, error.message, self.clock())
                    continue
                done.append(message.id)
        finally:
            self.queue.mark_sent(done, self.clock())

    def _handle_failure(
        self, message: OutboxMessage, rest: list[OutboxMessage], error: SlackApiError
    ) -> bool:
        """Mark a permanent failure, or put this and later rows back; True to stop the release."""
        code = str(error.response.get("error") or error.response.status_code)
        if code in PERMANENT_ERRORS:
            log.warning("outbox #%s failed for good: %s", message.id, code)
            self.queue.mark_failed(message.id, code, self.clock())
            return False
        retry_after = error.response.headers.get("Retry-After") if error.response.headers else None
        wait = (
            timedelta(seconds=float(retry_after))
            if retry_after
            else min(timedelta(seconds=2 ** min(message.attempts, 10)), MAX_BACKOFF)
        )
        log.info("outbox #%s will be retried in %ss: %s", message.id, wait.total_seconds(), code)
        self.queue.retry_later([m.id for m in rest], code, self.clock() + wait)
        return True

    def _send(self, message: OutboxMessage, snap: ReleaseSnapshot) -> None:
        """Carry out one notification against Slack."""
        if message.channel is None:
            return
        kind, data = message.kind, message.payload
        if kind is NoticeKind.STARTER_TOLD:
            if is_user_id(str(data["to"])):
                self.pacer.post(str(data["to"]))
                self.client.chat_postMessage(channel=str(data["to"]), text=ending_text(snap))
            return
        where = self.queue.status_message(message.release_id)
        if where is None:
            self.pacer.post(message.channel)
            posted = self.client.chat_postMessage(
                channel=message.channel, text=status_text(snap), blocks=self._blocks(snap)
            )
            where = (str(posted["channel"]), str(posted["ts"]))
            self.queue.set_status_message(message.release_id, *where)
            if kind in (NoticeKind.RELEASE_STARTED, NoticeKind.STATUS_CHANGED):
                return
        channel, ts = where
        if kind is NoticeKind.RELEASE_STARTED:
            return
        if kind is NoticeKind.STATUS_CHANGED:
            self.pacer.update()
            self.client.chat_update(
                channel=channel, ts=ts, text=status_text(snap), blocks=self._blocks(snap)
            )
            return
        text, broadcast = self._thread_reply(kind, data, snap)
        self.pacer.post(channel)
        self.client.chat_postMessage(
            channel=channel, thread_ts=ts, text=text, reply_broadcast=broadcast
        )

    def _blocks(self, snap: ReleaseSnapshot) -> list[dict[str, Any]]:
        return [b.to_dict() for b in status_blocks(snap, self.clock())]

    @staticmethod
    def _thread_reply(
        kind: NoticeKind, data: Mapping[str, Any], snap: ReleaseSnapshot
    ) -> tuple[str, bool]:
        """The thread reply of a notification, and whether it is also shown in the channel."""
        waited = timedelta(seconds=float(data.get("waited") or 0))
        if kind is NoticeKind.ACTION_TAKEN:
            reason = data.get("reason")
            text = action_reply_text(
                str(data["actor"]),
                Action(str(data["action"])),
                str(data["message"]),
                None if reason is None else str(reason),
            )
            return text, False
        if kind is NoticeKind.APPROVAL_NEEDED:
            return approval_needed_text(snap), True
        if kind is NoticeKind.REMINDER:
            return reminder_text(snap, waited), False
        if kind is NoticeKind.ESCALATION:
            return escalation_text(snap, waited), True
        return ending_text(snap), False
