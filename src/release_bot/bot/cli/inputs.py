"""Values from the command line, parsed once with limits; each refusal names its argument.

Text that is stored or compared (actors, reasons, names, unit ids, attributes) is trimmed and
must be printable: no control character (a newline, NUL), no lone surrogate and no line
separator, so SQLite and Postgres store the same thing and an error stays one line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from release_bot.core.errors import DomainError, InvalidInput
from release_bot.core.models import Release
from release_bot.core.quoting import shown
from release_bot.core.sentences import say
from release_bot.core.service import MAX_ID, check_flag_key, no_release
from release_bot.core.values import parse_value

NAME_LIMIT = 100  # actors, pipelines, environments, attribute names
TEXT_LIMIT = 500  # unit ids and attribute values
REASON_LIMIT = 2000  # as in Slack's abort form
ID_DIGITS = len(str(MAX_ID))
_UNPRINTABLE = {"Cc", "Cs", "Zl", "Zp"}
WHO = "give the Slack user id of who acts, such as U0123ABCD"


def unprintable(text: str) -> bool:
    """True when text holds a control character, a lone surrogate or a line separator."""
    return any(unicodedata.category(ch) in _UNPRINTABLE for ch in text)


def text(option: str, value: str, hint: str, *, limit: int = NAME_LIMIT,
         empty_ok: bool = False) -> str:
    """value trimmed; InvalidInput if it is empty, longer than limit or not printable."""
    cleaned = value.strip()
    if not cleaned and not empty_ok:
        problem = "is empty"
    elif len(cleaned) > limit:
        problem = f"is longer than {limit} characters"
    elif unprintable(cleaned):
        problem = "contains a control character, a line break or invalid Unicode"
    else:
        return cleaned
    raise InvalidInput(say("{option} {problem}: {hint}.", option=option, problem=problem,
                           hint=hint))


def actor(option: str, value: str) -> str:
    """Who acts (`--by`, `--as`): a name that is not empty."""
    return text(option, value, WHO)


def reason(value: str | None) -> str | None:
    """`--reason`: None when blank (abort then asks for one), else printable text."""
    if value is None or not value.strip():
        return None
    return text("--reason", value, "say why in a sentence", limit=REASON_LIMIT)


def flag_key(value: str) -> str:
    """A KEY argument: a key some flag could have (else bad input, on every database alike)."""
    check_flag_key(value)
    return value


def flag_value(value: str) -> Any:
    """`--value`: plain JSON within the core's limits."""
    try:
        return parse_value(value)
    except DomainError as error:
        sentence = replace(error.sentence, template="--value: " + error.sentence.template)
        raise InvalidInput(sentence, code=error.code, kind=error.kind) from None


def release_id(value: str) -> int:
    """An ID argument; a whole number longer than any id names no release (exit 1)."""
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(say("ID '{id}' is not a release id: write the number release start "
                               "printed, such as 12.", id=shown(value)))
    if len(digits.lstrip("0")) > ID_DIGITS:
        raise no_release(shown(digits))
    return int(digits)


def phase_index(value: str, release: Release) -> int:
    """`--phase N` (counted from 1) as the index of one of the release's phases."""
    count = len(release.pipeline.phases)
    number = value.strip()
    whole = number.isascii() and number.isdigit() and len(number) <= ID_DIGITS
    if whole and 1 <= int(number) <= count:
        return int(number) - 1
    raise InvalidInput(say("--phase {phase} is not a phase of release #{id}: it has phases 1 "
                           "to {count}.", phase=shown(value), id=release.id, count=count))


def attributes(pairs: Iterable[str]) -> dict[str, str]:
    """`--attr name=value` options as a mapping; each name once."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(say("--attr '{pair}' is not of the form name=value.",
                                   pair=shown(pair)))
        name = text("--attr", name, "write a short name before the =")
        if name in found:
            raise InvalidInput(say("--attr {name} is given twice: give each attribute once.",
                                   name=shown(name)))
        found[name] = text("--attr", value, f"write a shorter value for {shown(name)}",
                           limit=TEXT_LIMIT, empty_ok=True)
    return found
