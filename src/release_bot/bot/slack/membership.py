"""Group membership from Slack user groups, cached and kept in step with `subteam_*` events."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any, Generic, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.core.errors import MembershipUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
GRACE_FACTOR = 10
_HANDLES = "usergroups.list"


@dataclass(frozen=True)
class _Cached(Generic[T]):
    """A value and the clock reading when Slack gave it."""

    value: T
    at: float


@dataclass
class _Flight(Generic[T]):
    """One fetch in progress: its waiters block on `done`, then share its value or error."""

    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: Exception | None = None


class SlackMembership:
    """Answers `is_member` from Slack user groups (`@handle` or `S…` id), caching for ttl_seconds.

    Handles resolve through `usergroups.list`, members through `usergroups.users.list`; each is
    fetched by one thread at a time while others asking the same wait for its answer. When Slack
    cannot be asked, an answer fetched within GRACE_FACTOR × ttl_seconds (50 minutes by default) is
    served — memberships change rarely and events keep the cache in step, so a short Slack outage
    does not block approvals — and anything older raises MembershipUnavailable, which denies.
    """

    def __init__(
        self,
        client: WebClient,
        ttl_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._handles: _Cached[dict[str, str]] | None = None
        self._members: dict[str, _Cached[frozenset[str]]] = {}
        self._flights: dict[str, _Flight[Any]] = {}
        self._unknown: set[str] = set()

    def is_member(self, user_id: str, group: str) -> bool:
        """True if user_id is in group; False if Slack knows no such group."""
        group_id = self._resolve(group)
        return group_id is not None and user_id in self._users(group_id, group)

    def group_id(self, handle: str) -> str | None:
        """The `S…` id of `@handle`; None if Slack knows no such group or cannot be asked."""
        try:
            return self._resolve(handle if handle.startswith("@") else "@" + handle)
        except MembershipUnavailable as exc:
            log.warning("no mention for %s: %s", handle, exc.message)
            return None

    def group_ids(self, handles: Iterable[str]) -> dict[str, str]:
        """The group id (`S…`) of each handle that resolves; others are left out."""
        ids = {handle: self.group_id(handle) for handle in handles}
        return {handle: gid for handle, gid in ids.items() if gid is not None}

    def unknown_groups(self) -> frozenset[str]:
        """Groups asked about (as written) that Slack does not know, for the app to log."""
        with self._lock:
            return frozenset(self._unknown)

    def members_changed(self, group_id: str, added: list[str], removed: list[str]) -> None:
        """Apply a `subteam_members_changed` event to a cached group; its age is kept."""
        with self._lock:
            cached = self._members.get(group_id)
            if cached is not None:
                users = (cached.value | set(added)) - set(removed)
                self._members[group_id] = _Cached(users, cached.at)

    def group_updated(self, group: Mapping[str, Any]) -> None:
        """Apply a `subteam_updated` event: new handle, full member list, or the group disabled."""
        group_id: str = group["id"]
        users = group.get("users")
        disabled = bool(group.get("date_delete"))
        with self._lock:
            if self._handles is not None and (disabled or group.get("handle")):
                ids = {h: i for h, i in self._handles.value.items() if i != group_id}
                if not disabled:
                    ids[group["handle"]] = group_id
                self._handles = _Cached(ids, self._handles.at)
            if disabled:
                self._members[group_id] = _Cached(frozenset(), self._clock())
            elif users is not None and int(group.get("user_count", len(users))) == len(users):
                self._members[group_id] = _Cached(frozenset(users), self._clock())
            else:  # no list, or one Slack cut at 500 users: ask Slack next time
                self._members.pop(group_id, None)

    def forget(self) -> None:
        """Drop every cached answer and unknown group."""
        with self._lock:
            self._handles = None
            self._members.clear()
            self._unknown.clear()

    def _resolve(self, group: str) -> str | None:
        """The group id for `@handle` (None if unknown) or the id itself."""
        if not group.startswith("@"):
            return group
        with self._lock:
            cached = self._handles
        group_id = self._get(_HANDLES, cached, self._fetch_handles, group).get(group[1:])
        with self._lock:
            if group_id is None:
                self._unknown.add(group)
            else:
                self._unknown.discard(group)
        return group_id

    def _users(self, group_id: str, label: str) -> frozenset[str]:
        """Members of the group, from the cache or Slack."""
        with self._lock:
            cached = self._members.get(group_id)
        return self._get(group_id, cached, lambda: self._fetch_users(group_id), label)

    def _get(self, key: str, cached: _Cached[T] | None, fetch: Callable[[], T], label: str) -> T:
        """A fresh cached value, else a fetched one, else a stale one within grace, else raise."""
        if cached is not None and self._clock() - cached.at < self._ttl:
            return cached.value
        flight: _Flight[T] = self._shared(key, fetch)
        if flight.error is None and flight.value is not None:
            return flight.value
        if cached is not None and self._clock() - cached.at < self._ttl * GRACE_FACTOR:
            log.warning("serving stale Slack answer for %s: %s", label, flight.error)
            return cached.value
        raise _unavailable(label, flight.error) from flight.error

    def _shared(self, key: str, fetch: Callable[[], T]) -> _Flight[T]:
        """Run fetch unless a fetch for key is running; return the finished flight either way."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            return flight
        try:
            flight.value = fetch()
        except Exception as exc:  # every failure to ask Slack denies; the cause is kept
            flight.error = exc
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
        return flight

    def _fetch_handles(self) -> dict[str, str]:
        """Handle → id for the workspace's enabled user groups."""
        groups = self._client.usergroups_list()["usergroups"]
        ids = {g["handle"]: g["id"] for g in groups}
        with self._lock:
            self._handles = _Cached(ids, self._clock())
        return ids

    def _fetch_users(self, group_id: str) -> frozenset[str]:
        """The group's members; none if Slack knows no such group."""
        try:
            users = frozenset(self._client.usergroups_users_list(usergroup=group_id)["users"])
        except SlackApiError as exc:
            if exc.response.get("error") != "no_such_subteam":
                raise
            users = frozenset()
            with self._lock:
                self._unknown.add(group_id)
        with self._lock:
            self._members[group_id] = _Cached(users, self._clock())
        return users


def _unavailable(label: str, error: Exception | None) -> MembershipUnavailable:
    """One sentence saying why membership of label cannot be checked and what to do."""
    status = error.response.status_code if isinstance(error, SlackApiError) else None
    code = error.response.get("error") if isinstance(error, SlackApiError) else None
    if code == "plan_upgrade_required":
        message = (
            f"Slack user groups such as {label} need a paid Slack plan; "
            "list user ids (U…) in the pipelines file instead."
        )
    elif code == "missing_scope":
        message = (
            f"The Slack app lacks the usergroups:read scope needed to check {label}; "
            "add it to the app and reinstall."
        )
    elif status == 429:
        message = f"Slack is rate-limiting user-group lookups, so {label} cannot be checked now."
    elif status is not None and status >= 500:
        message = f"Slack failed (HTTP {status}) while checking {label}; try again shortly."
    elif code is not None:
        message = f"Slack refused to list the members of {label} ({code}); try again shortly."
    elif isinstance(error, TimeoutError):
        message = f"Slack did not answer in time to check membership of {label}; try again shortly."
    elif isinstance(error, OSError | HTTPException):
        message = f"Slack could not be reached to check membership of {label}; try again shortly."
    else:
        message = f"Slack's answer about {label} could not be read; try again shortly."
    return MembershipUnavailable(message)
