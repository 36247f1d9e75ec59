"""Outbox delivery: post and update status messages and thread replies once their change commits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.runtime.outbox_workers import BATCH_SECONDS, OutboxQueue, OutboxWorkers
from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.pacing import Pacer
from release_bot.bot.slack.views import (
    ApprovalAsk,
    ReleaseSnapshot,
    action_reply_text,
    approval_needed_text,
    ending_text,
    escalation_text,
    guardrail_text,
    reminder_text,
    status_blocks,
    status_text,
)
from release_bot.core.errors import DomainError
from release_bot.core.machine import Approvals, approvals
from release_bot.core.models import GUARDRAIL_ACTOR, Action, NoticeKind
from release_bot.core.policy import is_user_id
from release_bot.core.sentences import Sentence
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


class DeliveryQueue(OutboxQueue, Protocol):
    """The storage side of Slack delivery: the outbox stream, and where messages live."""

    def mark_failed(self, message_id: int, error: str, now: datetime) -> None:
        """This row can never be delivered; keep it for `outbox list --failed`."""
        ...

    def status_message(self, release_id: int) -> tuple[str, str] | None:
        """(channel, ts) of the release's status message, once posted."""
        ...

    def set_status_message(self, release_id: int, channel: str, ts: str) -> None:
        """Remember where the release's status message was posted."""
        ...


class Deliverer(OutboxWorkers[DeliveryQueue]):
    """Sends outbox rows to Slack, each release's rows in order, paced to Slack's limits."""

    thread_name = "outbox"
    what = "outbox"

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
        batch_seconds: float = BATCH_SECONDS,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(queue, ctx.clock, worker, doorbell, threads=threads, interval=interval,
                         batch=batch, batch_seconds=batch_seconds)
        self.client = client
        self.ctx = ctx
        # a wait for a pacing slot ends early when the deliverer is stopped
        self.pacer = pacer or Pacer(sleep=self._stop.wait)

    def _group(self, message: OutboxMessage) -> int:
        """A release's rows go in order."""
        return message.release_id

    def _deliver_group(self, rows: list[OutboxMessage], deadline: float) -> None:
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
                if self._give_back(deadline):
                    self.queue.unclaim([m.id for m in rows[index:]])
                    return
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
                except Exception as error:  # noqa: BLE001 — lost connection, timeout, database
                    # An outage like a 500: retry this and the later rows with backoff, instead
                    # of leaving them leased to this worker until the lease runs out.
                    log.warning("outbox #%s will be retried: %r", message.id, error)
                    self._retry(message, rows[index:], type(error).__name__, None)
                    return
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
        self._retry(message, rest, code, retry_after)
        return True

    def _retry(
        self, message: OutboxMessage, rest: list[OutboxMessage], code: str, retry_after: Any
    ) -> None:
        """Retry message after Retry-After or a backoff; the rows after it wait behind it."""
        try:
            wait = timedelta(seconds=max(0.0, float(retry_after)))
        except (TypeError, ValueError):
            wait = min(timedelta(seconds=2 ** min(message.attempts, 10)), MAX_BACKOFF)
        log.info("outbox #%s will be retried in %ss: %s", message.id, wait.total_seconds(), code)
        self.queue.retry_later([message.id], code, self.clock() + wait)
        # the release's later rows wait behind it: claims keep each release's order
        self.queue.unclaim([m.id for m in rest if m.id != message.id])

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
        if kind is NoticeKind.ACTION_TAKEN and data.get("actor") == GUARDRAIL_ACTOR:
            return guardrail_text(snap, data), True
        if kind is NoticeKind.ACTION_TAKEN:
            reason = data.get("reason")
            text = action_reply_text(
                str(data["actor"]),
                Action(str(data["action"])),
                _sentence(data),
                None if reason is None else str(reason),
            )
            return text, False
        if kind is NoticeKind.APPROVAL_NEEDED:
            return approval_needed_text(snap, _ask(data, snap)), True
        if kind is NoticeKind.REMINDER:
            return reminder_text(snap, _ask(data, snap)), False
        if kind is NoticeKind.ESCALATION:
            return escalation_text(snap, _ask(data, snap)), True
        return ending_text(snap), False


def _sentence(data: Mapping[str, Any]) -> Sentence:
    """The action's sentence; rows queued by an earlier version carry a finished message."""
    if "sentence" in data:
        return Sentence.from_data(data["sentence"])
    return Sentence("{s}", {"s": str(data["message"])})


def _ask(data: Mapping[str, Any], snap: ReleaseSnapshot) -> ApprovalAsk:
    """The approval notice's own facts; rows from an earlier version fall back to the release's."""
    release = snap.release
    phase = data.get("phase")
    if not isinstance(phase, int) or not 0 <= phase < len(release.pipeline.phases):
        phase = release.phase
    now = approvals(release, phase)
    approvers = tuple(str(u) for u in data.get("approved", now.approvers))
    return ApprovalAsk(
        phase=phase,
        groups=tuple(str(g) for g in data.get("groups") or ()),
        count=Approvals(approvers, int(data.get("required", now.required))),
        waited=timedelta(seconds=float(data.get("waited") or 0)),
    )
