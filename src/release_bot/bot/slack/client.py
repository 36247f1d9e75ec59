"""The bot's Slack WebClient: Slack's API (or a fake) retrying 429s, 5xx and lost connections.

slack_sdk enables only `ConnectionErrorRetryHandler` by default; a 429 or a 500 would otherwise
surface at once as `SlackApiError`. All handlers share one attempt counter per request, so
`max_retry_count` bounds the total number of retries, not each kind separately.
"""

from __future__ import annotations

import random

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter

SLACK_API_URL = "https://slack.com/api/"
MAX_RETRIES = 2
BACKOFF_SECONDS = 0.25


class _SmallJitter(Jitter):
    """Adds up to a quarter of the interval, instead of slack_sdk's default of up to a second."""

    def recalculate(self, duration: float) -> float:
        """The interval plus 0–25 %."""
        return duration * (1 + random.random() / 4)


def retry_handlers() -> list[RetryHandler]:
    """Retry lost connections and 500/503s after 0.25 s, 0.5 s; 429s after their Retry-After."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=BACKOFF_SECONDS, jitter=_SmallJitter())
    return [
        ConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES, interval_calculator=backoff),
        RateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),
        ServerErrorRetryHandler(max_retry_count=MAX_RETRIES, interval_calculator=backoff),
    ]


def make_web_client(token: str, base_url: str | None = None) -> WebClient:
    """A WebClient for base_url (default Slack's) retrying 429s, 500/503s and lost connections."""
    url = base_url or SLACK_API_URL
    if not url.endswith("/"):
        url += "/"
    return WebClient(token=token, base_url=url, retry_handlers=retry_handlers())
