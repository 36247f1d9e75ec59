"""Client-side pacing so bursts stay inside Slack's rate limits instead of earning 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# chat.postMessage: about one message per second per channel, short bursts allowed.
POST_BURST, POST_PER_SECOND = 3.0, 0.9  # 10% under the limit: threads' timing jitters
# chat.update is tier 3 (50+ per minute) for the whole workspace.
UPDATE_BURST, UPDATE_PER_SECOND = 20.0, 45 / 60


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class Pacer:
    """Token buckets by key, shared by every delivery thread of a process."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def reserve(self, key: str, burst: float, per_second: float) -> float:
        """Take a token for key; returns how long to wait before using it (0: go now)."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, _Bucket(burst, now))
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * per_second)
            bucket.stamp = now
            bucket.tokens -= 1
            return 0.0 if bucket.tokens >= 0 else -bucket.tokens / per_second

    def post(self, channel: str) -> None:
        """Wait for a chat.postMessage slot in channel."""
        self.sleep(self.reserve(f"post:{channel}", POST_BURST, POST_PER_SECOND))

    def update(self) -> None:
        """Wait for a chat.update slot."""
        self.sleep(self.reserve("chat.update", UPDATE_BURST, UPDATE_PER_SECOND))
