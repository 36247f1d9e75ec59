"""The CLI through serve's HTTP API (`/api/v1`), with the stdlib's urllib: loaded only when
RELEASE_BOT_URL is set, so the database commands start no slower."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from release_bot.bot.cli import inputs
from release_bot.bot.cli.backend import Shown
from release_bot.bot.runtime.compose import DatabaseUnusable
from release_bot.core.errors import DomainError, InvalidInput, Kind, RuleBroken
from release_bot.core.models import (
    Action,
    Approval,
    ApprovalGate,
    Event,
    FlagKind,
    Outcome,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
    Version,
)

PREFIX = "/api/v1"
TIMEOUT_SECONDS = 30.0
# a token that sent more than its share is told when to come back: wait, up to this often
RATE_LIMIT_RETRIES = 3
LONGEST_WAIT_SECONDS = 30.0
PROBLEM = "urn:release-bot:problem:"


class Unreachable(DatabaseUnusable):
    """The API stands in for the database: when it cannot be used the exit code is the same."""


class Remote:
    """The flag, release and history commands' questions, asked of the API with a token."""

    def __init__(self, url: str, token: str, option: str) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.option = option

    def _no_actor(self, actor: str | None) -> None:
        """Through the API the token acts; a name given as well would not be the one kept."""
        if actor is not None:
            raise InvalidInput(f"{self.option} is not taken through the API: the token acts "
                               "(as token:NAME); drop it, or unset RELEASE_BOT_URL to use the "
                               "database.")

    def flags(self) -> Sequence[dict[str, Any]]:
        """Every flag, as `flag list --json` prints it."""
        return list(self._call("GET", "/flags")["flags"])

    def flag(self, key: str) -> dict[str, Any]:
        """One flag, as `flag show --json` prints it."""
        return dict(self._call("GET", f"/flags/{key}"))

    def create_flag(self, key: str, kind: FlagKind, pipeline: str, value: Any,
                    actor: str | None) -> dict[str, Any]:
        """Create a flag; the new flag."""
        self._no_actor(actor)
        body = {"key": key, "kind": kind.value, "pipeline": pipeline, "value": value}
        return dict(self._call("POST", "/flags", body))

    def start_release(self, key: str, value: Any, actor: str | None,
                      once: str | None = None) -> Shown:
        """Start a release of a flag to a new value; with an idempotency key, a retry gets the
        release the first attempt started."""
        self._no_actor(actor)
        headers = {} if once is None else {"Idempotency-Key": once}
        return release_from_data(
            self._call("POST", f"/flags/{key}/releases", {"value": value}, headers))

    def release(self, release_id: int) -> Shown:
        """One release."""
        return release_from_data(self._call("GET", f"/releases/{release_id}"))

    def releases(self, *, active_only: bool, flag_key: str | None) -> Sequence[Release]:
        """Releases, newest first (each read in full, as a list shows who started it)."""
        query = {"active": "true"} if active_only else {}
        if flag_key is not None:
            query["flag"] = flag_key
        found = self._call("GET", "/releases?" + urllib.parse.urlencode(query))["releases"]
        return [self.release(int(summary["id"]))[0] for summary in found]

    def act(self, release_id: int, action: Action, actor: str | None, phase: str | None,
            reason: str | None) -> Shown:
        """Act on a release at the phase given (counted from 1), else at the phase it is at
        now; the release after."""
        self._no_actor(actor)
        now, _ = self.release(release_id)
        index = now.phase if phase is None else inputs.phase_index(phase, now)
        body = {"action": action.value, "phase": index, "reason": reason}
        return release_from_data(self._call("POST", f"/releases/{release_id}/actions", body))

    def history(self, key: str) -> Sequence[Event]:
        """A flag's history, oldest first, every page of it."""
        events: list[Event] = []
        page: str | None = f"{PREFIX}/flags/{key}/history?limit=500"
        while page is not None:
            answer = self._call("GET", page.removeprefix(PREFIX))
            events += [event_from_data(key, data) for data in answer["events"]]
            page = answer["next"]
        return events

    def _call(self, method: str, path: str, body: Any = None,
              headers: Mapping[str, str] | None = None) -> Any:
        """One request; a refusal becomes the DomainError the database path would raise."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + PREFIX + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                     "Content-Type": "application/json", "User-Agent": "release-bot-cli",
                     **(headers or {})},
        )
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                    return json.loads(answer.read())
            except urllib.error.HTTPError as error:
                with error:
                    wait = _retry_after(error) if attempt < RATE_LIMIT_RETRIES else None
                    if wait is None:
                        raise _refusal(error.code, error.read()) from None
                time.sleep(wait)
            except (OSError, ValueError) as error:
                reason = getattr(error, "reason", None) or error
                raise Unreachable(f"cannot reach release-bot at {self.url}: {reason}") from None
        raise AssertionError("unreachable")


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    """Seconds to wait before retrying a 429 that says when, else None."""
    if error.code != 429:
        return None
    try:
        return min(max(float(error.headers.get("Retry-After", "")), 0.0), LONGEST_WAIT_SECONDS)
    except ValueError:
        return None


def _refusal(status: int, raw: bytes) -> DomainError:
    """The refusal a problem document carries, of the kind its type names."""
    try:
        problem = json.loads(raw)
        detail, kind_name = str(problem["detail"]), str(problem["type"]).removeprefix(PROBLEM)
    except (ValueError, KeyError, TypeError):
        return DomainError(f"release-bot answered HTTP {status} without saying why.",
                           kind=Kind.UNAVAILABLE)
    kind = next((k for k in Kind if k.value == kind_name), Kind.UNAVAILABLE)
    rule = problem.get("rule")
    if isinstance(rule, str):
        return RuleBroken(detail, code=rule, kind=kind)
    return DomainError(detail, kind=kind)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def release_from_data(data: Mapping[str, Any]) -> Shown:
    """A release and its two versions from the JSON `release show --json` prints."""
    phases = tuple(
        Phase(
            name=p["name"],
            environments=tuple(p["environments"]),
            percentage=p["percentage"],
            match={k: tuple(v) for k, v in p["match"].items()},
            approval=None if p["approval"] is None
            else ApprovalGate(tuple(p["approval"]["groups"]), p["approval"]["required"]),
            bake=timedelta(seconds=p["bake_seconds"]),
        )
        for p in data["phases"]
    )
    created_at = datetime.fromisoformat(data["created_at"])
    remaining = data["remaining"]
    release = Release(
        id=data["id"],
        flag_key=data["flag"],
        pipeline=Pipeline(name=data["pipeline"], phases=phases),
        from_version=data["from_version"],
        to_version=data["to_version"],
        triggered_by=data["triggered_by"],
        created_at=created_at,
        state=ReleaseState(data["state"]),
        phase=data["phase"],
        phase_statuses=tuple(PhaseStatus(p["status"]) for p in data["phases"]),
        bake_ends_at=_time(data["bake_ends_at"]),
        remaining=None if remaining is None else timedelta(seconds=remaining),
        approvals=tuple(Approval(a["phase"], a["user"], datetime.fromisoformat(a["at"]))
                        for a in data["approvals"]),
        ended_at=_time(data["ended_at"]),
    )
    versions = {
        number: Version(number, data[f"{side}_value"], created_at, release.triggered_by)
        for side, number in (("from", release.from_version), ("to", release.to_version))
    }
    return release, versions


def event_from_data(key: str, data: Mapping[str, Any]) -> Event:
    """A history event of flag `key` from the JSON `history --json` prints."""
    return Event(
        flag_key=key,
        at=datetime.fromisoformat(data["at"]),
        actor=data["actor"],
        action=data["action"],
        outcome=Outcome(data["outcome"]),
        message=data["message"],
        release_id=data["release"],
        phase=data["phase"],
        from_state=data["from_state"],
        to_state=data["to_state"],
        reason=data["reason"],
        rule=data["rule"],
    )
