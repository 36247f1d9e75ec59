"""A Slack-less `serve` for data-plane tests, and a generous wait for what it polls."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from release_bot.bot.dataplane.keys import SdkKeys
from release_bot.bot.runtime.settings import Settings
from release_bot.storage import Database
from tests.support.harness import RunningServe

GENEROUS = 10.0  # seconds: a wait that only a broken refresh runs out of


def eventually(check: Callable[[], bool], timeout: float = GENEROUS) -> None:
    """Wait until check() holds (the data plane polls the database, so changes take a moment)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the data plane never served the change"
        time.sleep(0.01)


@contextmanager
def running_serve(database: Database, pipelines: str, sdk_keys: str | None = None
                  ) -> Iterator[RunningServe]:
    """serve without Slack on a free port; `sdk_keys` as RELEASE_BOT_SDK_KEYS would be."""
    keys = None if sdk_keys is None else SdkKeys.parse(sdk_keys)
    served = RunningServe(Settings(release_bot_sdk_keys=keys), database, pipelines)
    try:
        yield served
    finally:
        served.close()
