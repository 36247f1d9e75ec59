"""Every action, block and callback id the Slack app uses, and how controls encode their target."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from release_bot.core.models import Action


class ActionId(StrEnum):
    """`action_id`s of interactive elements."""

    APPROVE = "release_approve"
    MORE = "release_more"
    OPEN_STATUS = "release_open_status"
    HISTORY_NEXT = "history_next_page"


class BlockId(StrEnum):
    """`block_id`s the app reads back."""

    HEADER = "release_header"
    CONTROLS = "release_controls"
    REASON = "abort_reason"
    START_FLAG = "start_flag"
    START_VALUE = "start_value"


class InputId(StrEnum):
    """`action_id`s of modal inputs."""

    REASON = "reason_input"
    START_FLAG = "flag_input"
    START_VALUE = "value_input"


class CallbackId(StrEnum):
    """`callback_id`s of modals."""

    CONFIRM_ACTION = "release_confirm_action"
    START_RELEASE = "release_start"


@dataclass(frozen=True)
class Target:
    """What a control acts on: an action on a release, drawn for one phase."""

    action: Action
    release_id: int
    phase: int

    def encode(self) -> str:
        """`action:release:phase` — short enough for an overflow option value (≤150)."""
        return f"{self.action.value}:{self.release_id}:{self.phase}"

    @classmethod
    def decode(cls, value: str) -> Target:
        """Parse an encoded target; ValueError with a sentence if it is malformed."""
        parts = value.split(":")
        if len(parts) != 3:
            raise ValueError(f"malformed control value {value[:60]!r}")
        try:
            return cls(Action(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            raise ValueError(f"malformed control value {value[:60]!r}") from None
