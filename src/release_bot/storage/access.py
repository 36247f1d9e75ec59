"""Repositories of API access: tokens, and the Idempotency-Keys of starts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from release_bot.core.models import Scope, StartKey, Token
from release_bot.storage.repositories import flush
from release_bot.storage.tables import ApiTokenRow, StartKeyRow


def token_from_row(row: ApiTokenRow) -> Token:
    """A token from its row."""
    return Token(name=row.name, scopes=frozenset(Scope(s) for s in row.scopes),
                 created_at=row.created_at, created_by=row.created_by,
                 last_used_at=row.last_used_at, revoked_at=row.revoked_at)


def token_values(token: Token, secret_digest: str) -> dict[str, object]:
    """A token's row values."""
    return {"name": token.name, "secret_digest": secret_digest,
            "scopes": sorted(s.value for s in token.scopes), "created_at": token.created_at,
            "created_by": token.created_by, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at}


class SqlTokenRepository:
    """API tokens, found by the digest of their secret."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, name: str) -> Token | None:
        """The token with this name (revoked or not), or None."""
        row = self.session.get(ApiTokenRow, name)
        return None if row is None else token_from_row(row)

    def by_digest(self, secret_digest: str) -> Token | None:
        """The token whose secret has this digest, or None."""
        query = select(ApiTokenRow).where(ApiTokenRow.secret_digest == secret_digest)
        row = self.session.scalars(query).one_or_none()
        return None if row is None else token_from_row(row)

    def add(self, token: Token, secret_digest: str) -> None:
        """Store a new token."""
        self.session.add(ApiTokenRow(**token_values(token, secret_digest)))
        flush(self.session)

    def list(self) -> Sequence[Token]:
        """Every token, by name."""
        rows = self.session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name))
        return [token_from_row(row) for row in rows]

    def revoke(self, name: str, now: datetime) -> None:
        """Mark a token revoked."""
        self._set(name, revoked_at=now)

    def used(self, name: str, now: datetime) -> None:
        """Note when the token was last used."""
        self._set(name, last_used_at=now)

    def _set(self, name: str, **values: datetime) -> None:
        self.session.execute(update(ApiTokenRow).where(ApiTokenRow.name == name).values(**values))


class SqlStartKeyRepository:
    """Idempotency keys of starts; the primary key keeps each (owner, key) once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, owner: str, key: str) -> tuple[StartKey, int] | None:
        """The key as stored and the release it started, or None."""
        row = self.session.get(StartKeyRow, (owner, key))
        if row is None:
            return None
        assert row.release_id is not None, "a key is settled in the transaction that claims it"
        return StartKey(row.owner, row.key, row.request), row.release_id

    def claim(self, start: StartKey, now: datetime) -> None:
        """Store the key at once: a concurrent twin waits on its primary key, then fails."""
        self.session.add(StartKeyRow(owner=start.owner, key=start.key, request=start.request,
                                     created_at=now))
        flush(self.session)

    def settle(self, start: StartKey, release_id: int) -> None:
        """Record the release the key started."""
        row = self.session.get(StartKeyRow, (start.owner, start.key))
        assert row is not None, "settle() follows claim() in one transaction"
        row.release_id = release_id

