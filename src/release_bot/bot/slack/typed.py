"""What people type in Slack, parsed once at the front: flag values, flag keys, release numbers
and an abort's reason. Each refusal is one sentence that quotes the input shortened."""

from __future__ import annotations

from typing import Any

from release_bot.bot.slack.ids import ID_DIGITS
from release_bot.bot.slack.views.status import REASON_LIMIT
from release_bot.bot.slack.views.texts import clip
from release_bot.core.errors import InvalidInput, NotFound
from release_bot.core.sentences import say
from release_bot.core.service import FLAG_KEY
from release_bot.core.values import parse_value

SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
SHOWN = 60  # characters of refused input quoted back


def flag_value(text: str) -> Any:
    """A value typed in Slack: plain JSON within the core's limits, Slack's smart quotes undone."""
    return parse_value(text.strip().translate(SMART_QUOTES))


def flag_key(text: str) -> str:
    """A flag key as typed; NotFound when the text cannot be one."""
    if not FLAG_KEY.fullmatch(text):
        raise NotFound(say("There is no flag {key:flag}: a key is letters, digits, '_', '.' or "
                           "'-', at most 100 of them.", key=clip(text, SHOWN)))
    return text


def release_number(text: str) -> int | None:
    """The release `42` or `#42` names; None when the text is no number (a flag key, say)."""
    digits = text.removeprefix("#")
    if not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits.lstrip("0")) > ID_DIGITS:
        raise NotFound(say("There is no release #{number}: release numbers have at most "
                           "{limit} digits.", number=clip(digits, SHOWN), limit=ID_DIGITS))
    return int(digits)


def reason(text: str | None) -> str | None:
    """An abort's reason as typed: plain text within the form's limit (None: none given)."""
    if text is None:
        return None
    if len(text) > REASON_LIMIT or "\x00" in text or not _encodable(text):
        raise InvalidInput(say("Write the reason as plain text of at most {limit} characters.",
                               limit=REASON_LIMIT))
    return text


def _encodable(text: str) -> bool:
    """True unless the text holds a lone surrogate, which no database can keep."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
