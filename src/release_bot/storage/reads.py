"""The queries that read flags, versions, releases, history and tokens, in SQLAlchemy Core.

They run on a Connection (`Database.reads()`: the read-only use cases, which so never import
the ORM) or on the unit of work's Session, whose repositories extend these readers with writes;
a Session flushes its pending changes before it runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Connection, Engine, Row, Select, select

from release_bot.core.models import CheckState, Event, Flag, Release, Scope, Token, Version
from release_bot.storage.mapping import (
    check_state_from_row,
    event_from_row,
    flag_from_row,
    has_checks,
    release_from_row,
    version_from_row,
)
from release_bot.storage.schema import (
    api_tokens,
    check_states,
    events,
    flag_versions,
    flags,
    releases,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    Executor = Connection | Session


# execution option of a connection that only reads (on SQLite it then takes no write lock)
READ_ONLY = "release_bot_read_only"


def token_from_row(row: Row[Any]) -> Token:
    """A token from its row."""
    return Token(name=row.name, scopes=frozenset(Scope(s) for s in row.scopes),
                 created_at=row.created_at, created_by=row.created_by,
                 last_used_at=row.last_used_at, revoked_at=row.revoked_at)


def release_by_id(release_id: int) -> Select[Any]:
    """The row of one release."""
    return select(releases).where(releases.c.id == release_id)


class FlagReads:
    """Flags and their versions."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    def get(self, key: str) -> Flag | None:
        """The flag with this key, or None."""
        row = self.db.execute(select(flags).where(flags.c.key == key)).one_or_none()
        return None if row is None else flag_from_row(row)

    def list(self) -> Sequence[Flag]:
        """Every flag, by key."""
        return [flag_from_row(row) for row in self.db.execute(select(flags).order_by(flags.c.key))]

    def versions(self, key: str) -> dict[int, Version]:
        """Every version of a flag by number."""
        rows = self.db.execute(
            select(flag_versions)
            .where(flag_versions.c.flag_key == key)
            .order_by(flag_versions.c.number)
        )
        return {row.number: version_from_row(row) for row in rows}


class ReleaseReads:
    """Releases as they are stored."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    def get(self, release_id: int) -> Release | None:
        """The release with this id, or None."""
        row = self.db.execute(release_by_id(release_id)).one_or_none()
        return None if row is None else self.with_checks([row])[0]

    def active_for_flag(self, key: str) -> Release | None:
        """The flag's active release, or None."""
        row = self.db.execute(
            select(releases).where(releases.c.active_flag_key == key)
        ).one_or_none()
        return None if row is None else self.with_checks([row])[0]

    def list(self, *, active_only: bool = False, flag_key: str | None = None) -> Sequence[Release]:
        """Releases, newest first."""
        query = select(releases).order_by(releases.c.id.desc())
        if active_only:
            query = query.where(releases.c.active_flag_key.is_not(None))
        if flag_key is not None:
            query = query.where(releases.c.flag_key == flag_key)
        return self.with_checks(list(self.db.execute(query)))

    def with_checks(self, rows: Sequence[Any]) -> Sequence[Release]:
        """Releases of rows, each with the states of its checks (one query for them all)."""
        found: dict[int, list[CheckState]] = {}
        ids = [row.id for row in rows if has_checks(row.pipeline)]
        for start in range(0, len(ids), 500):
            query = (select(check_states)
                     .where(check_states.c.release_id.in_(ids[start:start + 500]))
                     .order_by(check_states.c.release_id, check_states.c.phase))
            for check in self.db.execute(query):
                found.setdefault(check.release_id, []).append(check_state_from_row(check))
        return [release_from_row(row, found.get(row.id, ())) for row in rows]


class HistoryReads:
    """The append-only history."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    def for_flag(self, key: str, *, offset: int = 0, limit: int | None = None
                 ) -> Sequence[Event]:
        """A flag's events, oldest first (from the offset-th, at most limit of them)."""
        query = (select(events).where(events.c.flag_key == key).order_by(events.c.id)
                 .offset(offset).limit(limit))
        return [event_from_row(row) for row in self.db.execute(query)]

    def for_release(self, release_id: int) -> Sequence[Event]:
        """A release's events, oldest first."""
        query = select(events).where(events.c.release_id == release_id).order_by(events.c.id)
        return [event_from_row(row) for row in self.db.execute(query)]


class TokenReads:
    """API tokens, found by name or by the digest of their secret."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    def get(self, name: str) -> Token | None:
        """The token with this name (revoked or not), or None."""
        row = self.db.execute(select(api_tokens).where(api_tokens.c.name == name)).one_or_none()
        return None if row is None else token_from_row(row)

    def by_digest(self, secret_digest: str) -> Token | None:
        """The token whose secret has this digest, or None."""
        query = select(api_tokens).where(api_tokens.c.secret_digest == secret_digest)
        row = self.db.execute(query).one_or_none()
        return None if row is None else token_from_row(row)

    def list(self) -> Sequence[Token]:
        """Every token, by name."""
        rows = self.db.execute(select(api_tokens).order_by(api_tokens.c.name))
        return [token_from_row(row) for row in rows]


class SqlReads:
    """One read-only transaction on a connection of its own (use it in a `with` block)."""

    connection: Connection
    flags: FlagReads
    releases: ReleaseReads
    history: HistoryReads
    tokens: TokenReads

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Self:
        """Open a connection and the readers over it."""
        self.connection = self.engine.connect().execution_options(**{READ_ONLY: True})
        self.flags = FlagReads(self.connection)
        self.releases = ReleaseReads(self.connection)
        self.history = HistoryReads(self.connection)
        self.tokens = TokenReads(self.connection)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """End the transaction (nothing was written) and give the connection back."""
        self.connection.close()
