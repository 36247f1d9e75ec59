"""Each process's in-memory copy of what every environment serves, kept fresh by polling.

A background thread reads the database's served revision every POLL_SECONDS and reloads
everything only when it moved, so a change committed by any replica is served within about
that long, and an evaluation never queries the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from release_bot.core.evaluation import served_flag
from release_bot.core.served import ServedFlag
from release_bot.storage.database import Database
from release_bot.storage.served import ServedState, current_revision, load_served

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class EnvironmentView:
    """What one environment serves, flag by flag, and an ETag that changes whenever it does.

    The ETag is a digest of the content, so every replica gives the same one for the same state.
    """

    name: str
    flags: Mapping[str, ServedFlag]
    etag: str


class Snapshot:
    """Every environment's view, swapped whole on each change; readers never take a lock."""

    def __init__(self, database: Database, environments: Iterable[str],
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.database = database
        self.environments = frozenset(environments)
        self.poll_seconds = poll_seconds
        self.revision: int | None = None
        self._views: dict[str, EnvironmentView] = {
            name: EnvironmentView(name, {}, _digest([])) for name in self.environments
        }
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def view(self, environment: str) -> EnvironmentView | None:
        """What the environment serves now; None for an environment no pipeline names."""
        return self._views.get(environment)

    def refresh(self) -> bool:
        """Reload if the served revision moved since the last load; True when a view changed."""
        revision = current_revision(self.database.engine)
        if revision == self.revision:
            return False
        state = load_served(self.database.engine)
        values: dict[str, dict[int, Any]] = {}
        for (key, number), value in state.values.items():
            values.setdefault(key, {})[number] = value
        views = {name: _view(name, state, values) for name in self.environments}
        changed = any(views[name].etag != self._views[name].etag for name in views)
        with self._changed:
            self._views = views
            self.revision = state.revision
            self._changed.notify_all()
        return changed

    def wait_for_change(self, environment: str, etag: str, timeout: float) -> EnvironmentView:
        """The environment's view once its ETag differs from `etag`, or as it is at timeout."""
        with self._changed:
            self._changed.wait_for(lambda: self._views[environment].etag != etag, timeout)
            return self._views[environment]

    def start(self) -> None:
        """Load now (an unreachable database is retried by the poll), then poll in a thread."""
        self._poll_once()
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="data-plane-snapshot",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self._poll_once()

    def _poll_once(self) -> None:
        """One refresh; a failure is logged when it starts and when it ends, not every poll."""
        try:
            self.refresh()
        except Exception as error:  # noqa: BLE001 — the last state keeps being served
            if not self._failing:
                log.warning("the data plane cannot reload from the database (%s); it serves "
                            "what it last read until the database answers", error)
            self._failing = True
            return
        if self._failing:
            log.warning("the data plane reads the database again")
        self._failing = False


def _view(environment: str, state: ServedState, values: Mapping[str, Mapping[int, Any]]
          ) -> EnvironmentView:
    """One environment's view of the state, given each flag's values by version."""
    ordered = {
        flag.key: served_flag(flag, values.get(flag.key, {}), state.releases.get(flag.key),
                              environment)
        for flag in sorted(state.flags, key=lambda flag: flag.key)
    }
    return EnvironmentView(environment, ordered, _digest([_content(f) for f in ordered.values()]))


def _content(flag: ServedFlag) -> list[Any]:
    """Everything about a served flag that can change an answer, as JSON-able data."""
    scopes = [[phase.name, phase.percentage, sorted((k, sorted(v)) for k, v in phase.match.items())]
              for phase in flag.scopes]
    return [flag.key, flag.kind.value, flag.base_version, flag.base_value, flag.release_id,
            flag.phase_name, flag.new_version, flag.new_value, scopes]


def _digest(content: list[Any]) -> str:
    """A short digest of JSON-able content, the same on every replica."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
