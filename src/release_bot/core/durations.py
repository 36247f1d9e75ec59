"""Human durations such as `90s`, `30m`, `2h`, `1h30m`, `1d`."""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | int) -> timedelta:
    """Parse `1h30m`-style text (or a bare number of seconds) into a timedelta."""
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=text)
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned.isdigit():
        return timedelta(seconds=int(cleaned))
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"'{text}' is not a duration: write it like 90s, 30m, 2h, 1h30m or 1d")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def format_duration(delta: timedelta) -> str:
    """Render a timedelta the way parse_duration reads it (`1h30m`, `0s`)."""
    seconds = max(int(delta.total_seconds()), 0)
    out = ""
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out += f"{count}{unit}"
    return out or "0s"
