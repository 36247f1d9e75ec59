"""Human durations such as `90s`, `30m`, `2h`, `1h30m`, `1d`: text with a unit, within limits."""

import re
from datetime import timedelta

from release_bot.core.quoting import shown

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# each unit at most once, largest first (`1d2h3m4s`, `1h30m`, `90s`); the text is short, so
# the numbers are too
_DURATION = re.compile("".join(rf"(?:([0-9]+){unit})?" for unit in _UNITS))
_LONGEST_TEXT = 32
HOW = "write it like 90s, 30m, 2h, 1h30m or 1d"
LONGEST = timedelta(days=365)
SHORTEST = timedelta(seconds=1)
SHORTEST_INTERVAL = timedelta(minutes=1)  # between reminders, and before an escalation


def parse_duration(value: object, shortest: timedelta = SHORTEST) -> timedelta:
    """A duration from text with a unit, between `shortest` and 365 days; else ValueError
    with one sentence saying what would be right."""
    if not isinstance(value, str):
        raise ValueError(_not_text(value))
    cleaned = value.strip().lower().replace(" ", "")
    quoted = shown(value.strip(), _LONGEST_TEXT)
    match = _DURATION.fullmatch(cleaned) if len(cleaned) <= _LONGEST_TEXT else None
    if cleaned.isascii() and cleaned.isdigit():
        raise ValueError(f"'{quoted}' has no unit: {HOW} (seconds are 's')")
    if not cleaned or match is None:
        raise ValueError(f"'{quoted}' is not a duration: {HOW}")
    pairs = zip(match.groups(), _UNITS.values(), strict=True)
    seconds = sum(int(n) * size for n, size in pairs if n)
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{quoted} is longer than {format_duration(LONGEST)}, "
                         "the longest a duration may be")
    if seconds < shortest.total_seconds():
        raise ValueError(f"{quoted} is shorter than {format_duration(shortest)}, "
                         "the shortest allowed here")
    return timedelta(seconds=seconds)


def _not_text(value: object) -> str:
    """Why a value that YAML did not read as text is no duration."""
    if value is None:
        return f"a duration is needed here: {HOW}"
    if isinstance(value, bool):
        return f"{str(value).lower()} is not a duration: {HOW}"
    if isinstance(value, int) and 0 <= value <= LONGEST.total_seconds():
        return f"{value} has no unit: {HOW} (seconds are 's', so {value}s)"
    if isinstance(value, int | float):
        return f"a number is not a duration: {HOW}"
    if isinstance(value, list | dict):
        return f"a {'list' if isinstance(value, list) else 'mapping'} is not a duration: {HOW}"
    return f"'{shown(str(value), _LONGEST_TEXT)}' is not a duration: {HOW}"


def format_duration(delta: timedelta) -> str:
    """Render a timedelta the way parse_duration reads it (`1h30m`, `0s`)."""
    seconds = max(int(delta.total_seconds()), 0)
    out = ""
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out += f"{count}{unit}"
    return out or "0s"
