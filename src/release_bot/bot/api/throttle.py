"""Each token's share of requests: a moving window per token (the `limits` library).

The windows are kept in this process's memory: each replica of `serve` allows a token its share,
so N replicas allow N shares. That bounds a runaway CI loop, which is what it is for.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


def parse_rate_limit(text: str) -> list[RateLimitItem]:
    """API_RATE_LIMIT such as `20/second;600/minute`; ValueError says how to write it."""
    try:
        return parse_many(text)
    except ValueError:
        raise ValueError(f"API_RATE_LIMIT is not valid ({text[:40]!r}): write requests per "
                         "period such as 20/second;600/minute.") from None


class Throttle:
    """Counts each token's requests against the limits."""

    def __init__(self, rate_limit: str) -> None:
        self.items = parse_rate_limit(rate_limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def wait(self, token_name: str) -> int | None:
        """None when the request is within the token's share, else the seconds to wait."""
        if all(self.limiter.hit(item, token_name) for item in self.items):
            return None
        resets = [self.limiter.get_window_stats(item, token_name) for item in self.items]
        latest = max(stats.reset_time for stats in resets if stats.remaining == 0)
        return max(1, math.ceil(latest - time.time()))
