"""What the sweep keeps about a release it could not move: failures, the error, the next try."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)
ERROR_LIMIT = 300  # characters of the error kept and shown


@dataclass(frozen=True)
class SweepFailure:
    """A release the sweep failed on: how many times in a row, the last error, when to retry."""

    release_id: int
    failures: int
    error: str
    retry_at: datetime

    @property
    def backoff(self) -> timedelta:
        """How long the sweep leaves the release alone after this failure."""
        return retry_delay(self.failures)


@dataclass(frozen=True)
class StuckRelease:
    """A release the sweep keeps failing on, as `release list --stuck` shows it."""

    failure: SweepFailure
    flag_key: str
    state: str


#: told of each failure as it is recorded (once per backoff step), with the error raised
OnStuck = Callable[[SweepFailure, Exception], None]


def retry_delay(failures: int) -> timedelta:
    """1 s after the first failure, doubling with each one after it, at most LONGEST_RETRY."""
    doublings = min(max(failures - 1, 0), 20)  # 2**20 s is far past the cap
    return min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)


def failed(release_id: int, before: SweepFailure | None, error: Exception, now: datetime
           ) -> SweepFailure:
    """The bookkeeping after one more failure: counted, described in one line, retried later."""
    failures = (before.failures if before else 0) + 1
    return SweepFailure(release_id, failures, describe(error), now + retry_delay(failures))


def describe(error: Exception) -> str:
    """An error as one line — its type and message — cut to ERROR_LIMIT characters."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"
