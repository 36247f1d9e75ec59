"""What the outbox holds, as the notifier and the CLI read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from release_bot.core.models import NoticeKind, Notification

# the target of a row for Slack; a row for a webhook names its endpoint's URL instead
SLACK_TARGET = "slack"


class Stream(StrEnum):
    """Who claims a row: Slack delivery, or webhook delivery; neither waits for the other."""

    SLACK = "slack"
    WEBHOOKS = "webhooks"


class OutboxStatus(StrEnum):
    """Where a queued notification stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"  # not posted: `serve` ran without Slack


@dataclass(frozen=True)
class OutboxMessage:
    """One queued notification and its delivery bookkeeping."""

    id: int
    release_id: int
    target: str
    channel: str | None
    kind: NoticeKind
    payload: Mapping[str, Any]
    attempts: int
    status: OutboxStatus
    created_at: datetime
    last_error: str | None

    @property
    def notification(self) -> Notification:
        """The core notification this message carries."""
        return Notification(self.kind, self.payload)
