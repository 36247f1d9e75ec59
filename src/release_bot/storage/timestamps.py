"""Aware UTC datetimes: the only kind of datetime the storage layer accepts or returns."""

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime; a naive datetime is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{value.isoformat()} has no time zone: release-bot stores only aware datetimes "
            "(pass datetime.now(UTC), not datetime.now())."
        )
    return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time as an aware UTC datetime (for bookkeeping columns only)."""
    return datetime.now(UTC)
