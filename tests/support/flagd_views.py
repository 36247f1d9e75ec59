"""Views of what each environment serves, read from a ReleaseService whenever a test publishes.

It stands where the data plane's snapshot stands in `serve` (the same two methods), so the
flagd sync can be tested on the real service and database with the change signal under the
test's control.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from release_bot.core.evaluation import served_flag
from release_bot.core.served import ServedFlag
from release_bot.core.service import ReleaseService


@dataclass(frozen=True)
class View:
    """One environment's flags and the publication they came from."""

    flags: Mapping[str, ServedFlag]
    etag: str


class ServiceViews:
    """Every environment's view as of the last `publish()`."""

    def __init__(self, service: ReleaseService, environments: tuple[str, ...]) -> None:
        self.service = service
        self.environments = environments
        self.views: dict[str, View] = {}
        self.published = 0
        self.changed = threading.Condition()
        self.publish()

    def publish(self) -> None:
        """Read the service now and wake whoever waits for a change."""
        read = [self.service.flag(flag.key) for flag in self.service.flags()]
        with self.changed:
            self.published += 1
            self.views = {env: View({flag.key: served_flag(
                flag, {n: v.value for n, v in versions.items()}, release, env)
                for flag, versions, release in read}, str(self.published))
                for env in self.environments}
            self.changed.notify_all()

    def view(self, environment: str) -> View | None:
        """What the environment serves as of the last publication."""
        return self.views.get(environment)

    def wait_for_change(self, environment: str, etag: str, timeout: float) -> View:
        """The environment's view once published again, or as it is at timeout."""
        with self.changed:
            self.changed.wait_for(lambda: self.views[environment].etag != etag, timeout)
            return self.views[environment]
