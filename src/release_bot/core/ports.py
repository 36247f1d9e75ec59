"""What the core needs from storage: repositories and a unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from release_bot.core.models import (
    CheckState,
    Event,
    Flag,
    Notification,
    Release,
    StartKey,
    Token,
    Version,
    Webhook,
)
from release_bot.core.sweeps import StuckRelease, SweepFailure


class FlagReader(Protocol):
    """Flags and their immutable versions, as stored."""

    def get(self, key: str) -> Flag | None:
        """The flag with this key, or None."""
        ...

    def list(self) -> Sequence[Flag]:
        """Every flag, by key."""
        ...

    def versions(self, key: str) -> dict[int, Version]:
        """Every version of a flag by number."""
        ...


class FlagRepository(FlagReader, Protocol):
    """Flags and their immutable versions."""

    def add(self, flag: Flag) -> None:
        """Store a new flag."""
        ...

    def save(self, flag: Flag) -> None:
        """Store a changed flag (its base versions)."""
        ...

    def add_version(self, key: str, version: Version) -> None:
        """Store a new immutable version of a flag."""
        ...


class ReleaseReader(Protocol):
    """Releases, as stored."""

    def get(self, release_id: int) -> Release | None:
        """The release with this id, or None."""
        ...

    def active_for_flag(self, key: str) -> Release | None:
        """The flag's active release, or None."""
        ...

    def list(self, *, active_only: bool = False, flag_key: str | None = None) -> Sequence[Release]:
        """Releases, newest first."""
        ...


class ReleaseRepository(ReleaseReader, Protocol):
    """Releases, saved with a compare-and-swap on their revision."""

    def add(self, release: Release) -> Release:
        """Store a new release and return it with its id."""
        ...

    def save(self, release: Release) -> Release:
        """Store a changed release unless it changed since read (else ConcurrentUpdate).

        A release that moves is no longer stuck: its sweep failure is forgotten.
        """
        ...

    def due(self, now: datetime, limit: int) -> Sequence[Release]:
        """Up to `limit` baking releases whose bake timer has ended at now, earliest first
        (a stuck release only once its retry time has come too)."""
        ...

    def due_ids(self, now: datetime, limit: int) -> Sequence[int]:
        """The ids due() names, read without turning any row into a release."""
        ...

    def reminders_due(self, now: datetime, limit: int) -> Sequence[Release]:
        """Up to `limit` releases awaiting approval whose reminder is due at now
        (a stuck release only once its retry time has come too)."""
        ...

    def reminder_ids(self, now: datetime, limit: int) -> Sequence[int]:
        """The ids reminders_due() names, read without turning any row into a release."""
        ...

    def next_due(self) -> datetime | None:
        """The earliest bake end or reminder of any release (for a stuck release, not before
        its retry time), or None."""
        ...

    def sweep_failure(self, release_id: int) -> SweepFailure | None:
        """What the sweep recorded about failing on this release, or None."""
        ...

    def record_sweep_failure(self, failure: SweepFailure) -> None:
        """Keep the sweep's failure on a release (its revision is left alone)."""
        ...

    def stuck(self) -> Sequence[StuckRelease]:
        """Every release with a recorded sweep failure, next retry first."""
        ...


class HistoryReader(Protocol):
    """The append-only history, as stored."""

    def for_flag(self, key: str, *, offset: int = 0, limit: int | None = None
                 ) -> Sequence[Event]:
        """A flag's events, oldest first (from the offset-th, at most limit of them)."""
        ...

    def for_release(self, release_id: int) -> Sequence[Event]:
        """A release's events, oldest first."""
        ...


class HistoryRepository(HistoryReader, Protocol):
    """The append-only history."""

    def append(self, event: Event) -> None:
        """Add one event."""
        ...


class Outbox(Protocol):
    """Notifications written in the same transaction as the change that caused them."""

    def put(
        self, release_id: int, channel: str | None, notification: Notification, now: datetime
    ) -> None:
        """Queue one notification for delivery after commit."""
        ...

    def put_event(self, release_id: int, webhook: Webhook, event: Event, now: datetime) -> None:
        """Queue one history event for a webhook endpoint, after commit."""
        ...


class CheckRepository(Protocol):
    """The states of the checks of releases' live phases (apart from a release's revision)."""

    def start(self, release_id: int, state: CheckState, query: str) -> None:
        """Begin measuring a check of a phase that went live."""
        ...

    def save(self, release_id: int, state: CheckState) -> None:
        """Keep a check's latest measurement, counts and next due time."""
        ...

    def stop(self, release_id: int) -> None:
        """Measure none of the release's checks again (it ended); their last states stay."""
        ...


class TokenReader(Protocol):
    """API tokens, found by name or by the digest of their secret."""

    def get(self, name: str) -> Token | None:
        """The token with this name (revoked or not), or None."""
        ...

    def by_digest(self, secret_digest: str) -> Token | None:
        """The token whose secret has this digest, or None."""
        ...

    def list(self) -> Sequence[Token]:
        """Every token, by name."""
        ...


class TokenRepository(TokenReader, Protocol):
    """API tokens, with writes."""

    def add(self, token: Token, secret_digest: str) -> None:
        """Store a new token."""
        ...

    def revoke(self, name: str, now: datetime) -> None:
        """Mark a token revoked."""
        ...

    def used(self, name: str, now: datetime) -> None:
        """Note when the token was last used."""
        ...


class StartKeyRepository(Protocol):
    """Idempotency keys of starts; the database keeps each (owner, key) once."""

    def find(self, owner: str, key: str) -> tuple[StartKey, int] | None:
        """The key as stored and the release it started, or None (a key is settled in the
        transaction that claims it)."""
        ...

    def claim(self, start: StartKey, now: datetime) -> None:
        """Store the key at once: a concurrent start with it waits for this transaction, then
        fails with ConcurrentUpdate."""
        ...

    def settle(self, start: StartKey, release_id: int) -> None:
        """Record the release the key started."""
        ...


class Reads(Protocol):
    """One read-only transaction over every reader."""

    @property
    def flags(self) -> FlagReader:
        """Flags and versions."""
        ...

    @property
    def releases(self) -> ReleaseReader:
        """Releases."""
        ...

    @property
    def history(self) -> HistoryReader:
        """The history."""
        ...

    @property
    def tokens(self) -> TokenReader:
        """API tokens."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWork(Reads, Protocol):
    """One transaction over every repository: the readers, with writes."""

    @property
    def flags(self) -> FlagRepository:
        """Flags and versions."""
        ...

    @property
    def releases(self) -> ReleaseRepository:
        """Releases."""
        ...

    @property
    def history(self) -> HistoryRepository:
        """The history."""
        ...

    @property
    def outbox(self) -> Outbox:
        """The outbox."""
        ...

    @property
    def checks(self) -> CheckRepository:
        """The states of checks."""
        ...

    @property
    def tokens(self) -> TokenRepository:
        """API tokens."""
        ...

    @property
    def start_keys(self) -> StartKeyRepository:
        """Idempotency keys of starts."""
        ...

    def commit(self) -> None:
        """Make the transaction's changes durable (ConcurrentUpdate if a CAS failed)."""
        ...

    def rollback(self) -> None:
        """Drop the transaction's changes."""
        ...
