"""Every action, block and callback id the Slack app uses, and the one codec for the values that
buttons, menus and modals carry (`Target`, `ReleaseRef`, `HistoryPage`, `Confirmation`)."""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from release_bot.core.errors import InvalidInput
from release_bot.core.models import Action
from release_bot.core.sentences import say
from release_bot.core.service import FLAG_KEY, MAX_ID

SHOWN_LIMIT = 60  # characters of an unreadable value quoted back
ID_DIGITS = len(str(MAX_ID))  # digits of the largest release number or phase
SLACK_ID = re.compile(r"[A-Z0-9]{1,64}")  # users, channels: capitals and digits
MESSAGE_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,8}")  # a message's `ts`, as Slack writes it


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


class Unreadable(InvalidInput):
    """A carried value this app did not write: tampered with, truncated, or from an old version."""

    def __init__(self, carrier: type[Carried], why: str) -> None:
        super().__init__(say("This {what} could not be read ({why}) — {advice}",
                             what=carrier.what, why=why, advice=carrier.advice))


class Carried(ABC):
    """A value the app writes into a button, a menu option or a modal, and reads back."""

    key: ClassVar[str]  # the listener argument it arrives as (Bolt injects context keys by name)
    what: ClassVar[str]  # what carried it, for the sentence when it cannot be read
    advice: ClassVar[str]  # what the person can do instead

    @abstractmethod
    def encode(self) -> str:
        """The value as Slack carries it."""

    @classmethod
    @abstractmethod
    def parse(cls, value: str) -> Self:
        """The value from its encoding; ValueError when it is not one."""

    @classmethod
    def decode(cls, value: object) -> Self:
        """The value back from Slack; Unreadable, with a sentence, when it is not ours."""
        if not isinstance(value, str):
            raise Unreadable(cls, "it is empty" if value is None else "it is not text")
        if not value:
            raise Unreadable(cls, "it is empty")
        try:
            return cls.parse(value)
        except (ValueError, RecursionError):  # RecursionError: JSON nested beyond Python's stack
            why = f"{value[:SHOWN_LIMIT]!r} is not a value this app wrote"
            raise Unreadable(cls, why) from None

    def release_named(self) -> int | None:
        """The release this value is about, if any."""
        return None


def _number(text: str) -> int:
    """A non-negative whole number in ASCII digits that fits in 64 bits, as the app writes."""
    if not (text.isascii() and text.isdigit()) or len(text) > ID_DIGITS or int(text) > MAX_ID:
        raise ValueError(f"not a number this app writes: {text[:SHOWN_LIMIT]!r}")
    return int(text)


@dataclass(frozen=True)
class Target(Carried):
    """What a control acts on: an action on a release, drawn for one phase (`approve:42:1`)."""

    key: ClassVar[str] = "target"
    what: ClassVar[str] = "control"
    advice: ClassVar[str] = "try /release status."

    action: Action
    release_id: int
    phase: int

    def encode(self) -> str:
        """`action:release:phase`."""
        return f"{self.action.value}:{self.release_id}:{self.phase}"

    @classmethod
    def parse(cls, value: str) -> Self:
        """From `action:release:phase`."""
        action, release_id, phase = value.split(":")
        return cls(Action(action), _number(release_id), _number(phase))

    def release_named(self) -> int:
        """The release acted on."""
        return self.release_id


@dataclass(frozen=True)
class ReleaseRef(Carried):
    """The release a "Show status" button shows (`42`)."""

    key: ClassVar[str] = "release_ref"
    what: ClassVar[str] = "button"
    advice: ClassVar[str] = "try /release status."

    release_id: int

    def encode(self) -> str:
        """The release's number."""
        return str(self.release_id)

    @classmethod
    def parse(cls, value: str) -> Self:
        """From the release's number."""
        return cls(_number(value))

    def release_named(self) -> int:
        """The release shown."""
        return self.release_id


@dataclass(frozen=True)
class HistoryPage(Carried):
    """A page of a flag's history, counted from 1 (`flag:2`)."""

    key: ClassVar[str] = "history_page"
    what: ClassVar[str] = "history page button"
    advice: ClassVar[str] = "try /release history FLAG."

    flag_key: str
    page: int

    def encode(self) -> str:
        """`flag:page`."""
        return f"{self.flag_key}:{self.page}"

    @classmethod
    def parse(cls, value: str) -> Self:
        """From `flag:page`."""
        flag_key, _, page = value.rpartition(":")
        if not FLAG_KEY.fullmatch(flag_key) or _number(page) < 1:
            raise ValueError("no flag, or no page")
        return cls(flag_key, int(page))


@dataclass(frozen=True)
class Confirmation(Carried):
    """What a confirmation modal confirms, and the message it was opened from (JSON)."""

    key: ClassVar[str] = "confirmation"
    what: ClassVar[str] = "form"
    advice: ClassVar[str] = "close it and pick the action again."

    target: Target
    channel: str | None
    ts: str | None

    def encode(self) -> str:
        """`{"target": "action:release:phase", "channel": …, "ts": …}`."""
        data = {"target": self.target.encode(), "channel": self.channel, "ts": self.ts}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def parse(cls, value: str) -> Self:
        """From its JSON."""
        data = json.loads(value)
        if not isinstance(data, dict) or not isinstance(data.get("target"), str):
            raise ValueError("no target")
        channel, ts = data.get("channel"), data.get("ts")
        if not (channel is None or isinstance(channel, str) and SLACK_ID.fullmatch(channel)):
            raise ValueError("the channel is not a Slack id")
        if not (ts is None or isinstance(ts, str) and MESSAGE_TS.fullmatch(ts)):
            raise ValueError("the message is not a Slack timestamp")
        return cls(Target.parse(data["target"]), channel, ts)

    def release_named(self) -> int:
        """The release the action is on."""
        return self.target.release_id


CARRIED_BY_ACTION: Mapping[str, type[Carried]] = {
    ActionId.APPROVE: Target,
    ActionId.MORE: Target,
    ActionId.OPEN_STATUS: ReleaseRef,
    ActionId.HISTORY_NEXT: HistoryPage,
}
CARRIED_BY_VIEW: Mapping[str, type[Carried]] = {CallbackId.CONFIRM_ACTION: Confirmation}
