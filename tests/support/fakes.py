"""In-memory stand-ins for the core's ports, plus pipeline and release builders for unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from release_bot.core import machine
from release_bot.core.errors import ConcurrentUpdate, MembershipUnavailable
from release_bot.core.models import (
    Action,
    ApprovalGate,
    CheckState,
    Command,
    Event,
    Flag,
    FlagKind,
    Notification,
    Phase,
    Pipeline,
    Release,
    ReleaseState,
    Version,
)
from release_bot.core.sweeps import StuckRelease, SweepFailure

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
TRIGGERER = "U0TRIG"
APPROVERS = "@approvers"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


# --- pipelines -------------------------------------------------------------------------------

def staging(bake: timedelta = timedelta(minutes=30), **kw: Any) -> Phase:
    return Phase(name="Staging", environments=("staging",), bake=bake, **kw)


def canary(required: int = 1, bake: timedelta = timedelta(hours=2), **kw: Any) -> Phase:
    return Phase(
        name="Production canary", environments=("production",), percentage=10,
        approval=ApprovalGate(groups=(APPROVERS,), required=required), bake=bake, **kw,
    )


def production(required: int = 2, **kw: Any) -> Phase:
    return Phase(
        name="Production", environments=("production",),
        approval=ApprovalGate(groups=(APPROVERS,), required=required), **kw,
    )


def three_phase(**kw: Any) -> Pipeline:
    """Staging (30m bake, no gate) → Production canary (10%, 1 approval, 2h) → Production
    (2 approvals, no bake)."""
    return Pipeline(name="standard", phases=(staging(), canary(), production()),
                    channel="C0RELEASES", **kw)


def pipeline_of(*phases: Phase, name: str = "custom", **kw: Any) -> Pipeline:
    return Pipeline(name=name, phases=tuple(phases), channel="C0RELEASES", **kw)


def gate_flag(key: str = "new_checkout", pipeline: str = "standard") -> Flag:
    return Flag(key=key, kind=FlagKind.GATE, pipeline=pipeline, default_version=1)


# --- membership ------------------------------------------------------------------------------

class FakeMembership:
    """Group → users. Groups in `unavailable` (or every group when `down`) cannot be looked up."""

    def __init__(self, groups: Mapping[str, Iterable[str]] | None = None, *,
                 down: bool = False, unavailable: Iterable[str] = ()) -> None:
        self.groups = {g: set(users) for g, users in (groups or {}).items()}
        self.down = down
        self.unavailable = set(unavailable)
        self.asked: list[tuple[str, str]] = []

    def is_member(self, user_id: str, group: str) -> bool:
        self.asked.append((user_id, group))
        if self.down or group in self.unavailable:
            raise MembershipUnavailable(f"Slack could not tell who is in {group}.")
        return user_id in self.groups.get(group, set())


def approvers_membership(*users: str) -> FakeMembership:
    return FakeMembership({APPROVERS: users or (ALICE, BOB, CAROL)})


class Everyone:
    """Membership that says yes to everything (for replaying decisions that were allowed)."""

    def is_member(self, user_id: str, group: str) -> bool:
        return True


# --- releases driven through the real transition function -------------------------------------

def started(pipeline: Pipeline | None = None, *, at: datetime = NOW,
            actor: str = TRIGGERER, release_id: int = 7) -> Release:
    """A freshly triggered release (id assigned) of gate_flag through the pipeline."""
    pipeline = pipeline or three_phase()
    release = machine.start(gate_flag(pipeline=pipeline.name), pipeline, 2, actor, at).release
    return replace(release, id=release_id)


def act(release: Release, action: Action, actor: str = ALICE, *, at: datetime = NOW,
        reason: str | None = None, phase: int | None = None,
        membership: Any = None) -> Release:
    command = Command(release.id or 0, action, actor, phase=release.phase if phase is None
                      else phase, reason=reason)
    return machine.decide(release, command, at, membership or Everyone()).release


def expire(release: Release) -> Release:
    """Let the current bake timer run out."""
    assert release.bake_ends_at is not None
    transition = machine.timer_end(release, release.bake_ends_at)
    assert transition is not None
    return transition.release


def in_state(state: str, pipeline: Pipeline | None = None) -> Release:
    """The three-phase release in one state of the table, at phase 1 for non-terminal states.

    awaiting_approval → waiting for the canary's approval; baking → canary live (2h bake, 30 min
    in); paused → canary paused with 90 min left; completed; aborted (while the canary baked).
    """
    r = expire(started(pipeline))                      # awaiting_approval(1)
    if state == "awaiting_approval":
        return r
    r = act(r, Action.APPROVE, ALICE, at=NOW + timedelta(hours=1))  # baking(1) until +3h
    if state == "baking":
        return r
    if state == "paused":
        return act(r, Action.PAUSE, at=NOW + timedelta(hours=1, minutes=30))
    if state == "completed":
        return act(r, Action.FULL_ROLLOUT, at=NOW + timedelta(hours=1, minutes=30))
    if state == "aborted":
        return act(r, Action.ABORT, at=NOW + timedelta(hours=1, minutes=30), reason="errors up")
    raise ValueError(state)


# --- unit of work ----------------------------------------------------------------------------

@dataclass
class FakeStore:
    """The committed state every FakeUnitOfWork reads at enter and writes at commit."""

    flags: dict[str, Flag] = field(default_factory=dict)
    versions: dict[str, dict[int, Version]] = field(default_factory=dict)
    releases: dict[int, Release] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    outbox: list[tuple[int, str | None, Notification, datetime]] = field(default_factory=list)
    last_id: int = 0
    commits: int = 0
    #: called with (store, release) before each release save's compare-and-swap, so a test can
    #: play "someone else wrote first"
    before_save: Callable[[FakeStore, Release], None] | None = None
    #: when set, commit raises this many ConcurrentUpdate errors before it succeeds again
    failing_commits: int = 0
    #: releases whose stored form cannot be read: reading one (alone or in a list) raises, as a
    #: corrupt row does on a database
    poisoned: set[int] = field(default_factory=set)
    sweep_failures: dict[int, SweepFailure] = field(default_factory=dict)
    #: (release id, phase, check name) → the check's state
    checks: dict[tuple[int, int, str], CheckState] = field(default_factory=dict)

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def snapshot(self) -> _State:
        return _State(
            flags=dict(self.flags),
            versions={k: dict(v) for k, v in self.versions.items()},
            releases=dict(self.releases),
            events=list(self.events),
            outbox=list(self.outbox),
            sweep_failures=dict(self.sweep_failures),
            checks=dict(self.checks),
        )

    def apply(self, state: _State) -> None:
        """Publish a transaction's writes (and only those) to the committed state."""
        for key in state.dirty_flags:
            self.flags[key] = state.flags[key]
            self.versions.setdefault(key, {})
        for key, number in state.new_versions:
            self.versions[key][number] = state.versions[key][number]
        for release_id in state.dirty_releases:
            self.releases[release_id] = state.releases[release_id]
        for release_id in state.dirty_failures:
            if release_id in state.sweep_failures:
                self.sweep_failures[release_id] = state.sweep_failures[release_id]
            else:
                self.sweep_failures.pop(release_id, None)
        self.checks.update(state.checks)
        self.events.extend(state.events[state.events_at_start:])
        self.outbox.extend(state.outbox[state.outbox_at_start:])
        self.commits += 1


@dataclass
class _State:
    flags: dict[str, Flag]
    versions: dict[str, dict[int, Version]]
    releases: dict[int, Release]
    events: list[Event]
    outbox: list[tuple[int, str | None, Notification, datetime]]
    sweep_failures: dict[int, SweepFailure]
    checks: dict[tuple[int, int, str], CheckState]
    dirty_flags: set[str] = field(default_factory=set)
    new_versions: list[tuple[str, int]] = field(default_factory=list)
    dirty_releases: set[int] = field(default_factory=set)
    dirty_failures: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.events_at_start = len(self.events)
        self.outbox_at_start = len(self.outbox)


class _Flags:
    def __init__(self, state: _State) -> None:
        self.state = state

    def get(self, key: str) -> Flag | None:
        return self.state.flags.get(key)

    def add(self, flag: Flag) -> None:
        assert flag.key not in self.state.flags, f"duplicate flag {flag.key}"
        self.state.flags[flag.key] = flag
        self.state.versions[flag.key] = {}
        self.state.dirty_flags.add(flag.key)

    def save(self, flag: Flag) -> None:
        assert flag.key in self.state.flags
        self.state.flags[flag.key] = flag
        self.state.dirty_flags.add(flag.key)

    def list(self) -> list[Flag]:
        return [self.state.flags[k] for k in sorted(self.state.flags)]

    def add_version(self, key: str, version: Version) -> None:
        versions = self.state.versions[key]
        assert version.number not in versions, "versions are immutable"
        versions[version.number] = version
        self.state.new_versions.append((key, version.number))

    def versions(self, key: str) -> dict[int, Version]:
        return dict(self.state.versions.get(key, {}))


class _Releases:
    def __init__(self, store: FakeStore, state: _State) -> None:
        self.store = store
        self.state = state

    def get(self, release_id: int) -> Release | None:
        release = self.state.releases.get(release_id)
        return self._read([release])[0] if release else None

    def add(self, release: Release) -> Release:
        self.store.last_id += 1
        saved = replace(release, id=self.store.last_id, revision=1)
        self.state.releases[saved.id] = saved
        self.state.dirty_releases.add(saved.id)
        return saved

    def save(self, release: Release) -> Release:
        assert release.id is not None
        if self.store.before_save is not None:
            self.store.before_save(self.store, release)
        current = self.store.releases.get(release.id) or self.state.releases.get(release.id)
        if current is None or current.revision != release.revision:
            raise ConcurrentUpdate(f"Release #{release.id} changed since it was read.")
        saved = replace(release, revision=release.revision + 1)
        self.state.releases[release.id] = saved
        self.state.dirty_releases.add(release.id)
        self.state.sweep_failures.pop(release.id, None)  # a release that moves is not stuck
        self.state.dirty_failures.add(release.id)
        return saved

    def active_for_flag(self, key: str) -> Release | None:
        return next((r for r in self.list(active_only=True, flag_key=key)), None)

    def list(self, *, active_only: bool = False, flag_key: str | None = None) -> list[Release]:
        return self._read([
            r for _, r in sorted(self.state.releases.items(), reverse=True)
            if (not active_only or r.active) and (flag_key is None or r.flag_key == flag_key)
        ])

    def due(self, now: datetime, limit: int) -> list[Release]:
        return self._read(self._timed(ReleaseState.BAKING, now)[:limit])

    def due_ids(self, now: datetime, limit: int) -> list[int]:
        return [r.id for r in self._timed(ReleaseState.BAKING, now)[:limit] if r.id]

    def reminders_due(self, now: datetime, limit: int) -> list[Release]:
        return self._read(self._timed(ReleaseState.AWAITING_APPROVAL, now)[:limit])

    def reminder_ids(self, now: datetime, limit: int) -> list[int]:
        return [r.id for r in self._timed(ReleaseState.AWAITING_APPROVAL, now)[:limit] if r.id]

    def next_due(self) -> datetime | None:
        times = [self._due_at(r) for r in self.state.releases.values()]
        return min((t for t in times if t is not None), default=None)

    def sweep_failure(self, release_id: int) -> SweepFailure | None:
        return self.state.sweep_failures.get(release_id)

    def record_sweep_failure(self, failure: SweepFailure) -> None:
        self.state.sweep_failures[failure.release_id] = failure
        self.state.dirty_failures.add(failure.release_id)

    def stuck(self) -> list[StuckRelease]:
        return [
            StuckRelease(f, self.state.releases[f.release_id].flag_key,
                         self.state.releases[f.release_id].describe_state())
            for f in sorted(self.state.sweep_failures.values(),
                            key=lambda f: (f.retry_at, f.release_id))
        ]

    def _due_at(self, release: Release) -> datetime | None:
        """When the release's timer is due, for a stuck one not before its retry time."""
        timer = {ReleaseState.BAKING: release.bake_ends_at,
                 ReleaseState.AWAITING_APPROVAL: release.remind_at}.get(release.state)
        failure = self.state.sweep_failures.get(release.id or 0)
        if timer is None or failure is None:
            return timer
        return max(timer, failure.retry_at)

    def _timed(self, state: ReleaseState, now: datetime) -> list[Release]:
        """Releases in `state` whose timer (and retry time, if stuck) has come, earliest first."""
        return sorted(
            (r for r in self.state.releases.values()
             if r.state is state and (at := self._due_at(r)) is not None and at <= now),
            key=lambda r: (r.bake_ends_at if state is ReleaseState.BAKING else r.remind_at, r.id),
        )

    def _read(self, releases: list[Release]) -> list[Release]:
        """The releases as read from storage: a poisoned one makes the whole read fail."""
        for release in releases:
            if release.id in self.store.poisoned:
                raise RuntimeError(f"release #{release.id} cannot be read: its row is corrupt")
        return [
            replace(r, checks=tuple(c for (rid, _, _), c in sorted(self.state.checks.items())
                                    if rid == r.id))
            for r in releases
        ]


class _Checks:
    def __init__(self, state: _State) -> None:
        self.state = state

    def start(self, release_id: int, state: CheckState, query: str) -> None:
        self.state.checks[(release_id, state.phase, state.name)] = state

    def save(self, release_id: int, state: CheckState) -> None:
        self.state.checks[(release_id, state.phase, state.name)] = state

    def stop(self, release_id: int) -> None:
        for key, state in list(self.state.checks.items()):
            if key[0] == release_id:
                self.state.checks[key] = replace(state, due_at=None)


class _History:
    def __init__(self, state: _State) -> None:
        self.state = state

    def append(self, event: Event) -> None:
        self.state.events.append(event)

    def for_flag(self, key: str, *, offset: int = 0, limit: int | None = None) -> list[Event]:
        events = [e for e in self.state.events if e.flag_key == key][offset:]
        return events if limit is None else events[:limit]

    def for_release(self, release_id: int) -> list[Event]:
        return [e for e in self.state.events if e.release_id == release_id]


class _Outbox:
    def __init__(self, state: _State) -> None:
        self.state = state

    def put(self, release_id: int, channel: str | None, notification: Notification,
            now: datetime) -> None:
        self.state.outbox.append((release_id, channel, notification, now))


class FakeUnitOfWork:
    """One transaction: repositories work on a private copy; commit publishes it to the store;
    leaving the block without commit (or with an exception) drops it."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def __enter__(self) -> FakeUnitOfWork:
        self._begin()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.rollback()

    def commit(self) -> None:
        if self.store.failing_commits:
            self.store.failing_commits -= 1
            raise ConcurrentUpdate("Another transaction won the compare-and-swap.")
        self.store.apply(self._state)
        self._begin()

    def rollback(self) -> None:
        self._begin()

    def _begin(self) -> None:
        self._state = self.store.snapshot()
        self.flags = _Flags(self._state)
        self.releases = _Releases(self.store, self._state)
        self.history = _History(self._state)
        self.outbox = _Outbox(self._state)
        self.checks = _Checks(self._state)
