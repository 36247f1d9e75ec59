"""The writes of API access, in SQLAlchemy Core: tokens, and the Idempotency-Keys of starts.

Tokens are read by storage/reads.py's TokenReads, which the repository here extends; start keys
are read and written in the start's own transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from release_bot.core.models import StartKey, Token
from release_bot.storage.conflicts import races_as_concurrent_updates
from release_bot.storage.reads import TokenReads
from release_bot.storage.schema import api_tokens, start_keys


def token_values(token: Token, secret_digest: str) -> dict[str, object]:
    """A token's row values."""
    return {"name": token.name, "secret_digest": secret_digest,
            "scopes": sorted(s.value for s in token.scopes), "created_at": token.created_at,
            "created_by": token.created_by, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at}


class SqlTokenRepository(TokenReads):
    """API tokens: the reads of TokenReads, and writes."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session

    def add(self, token: Token, secret_digest: str) -> None:
        """Store a new token."""
        self.session.execute(insert(api_tokens).values(**token_values(token, secret_digest)))

    def revoke(self, name: str, now: datetime) -> None:
        """Mark a token revoked."""
        self.session.execute(update(api_tokens).where(api_tokens.c.name == name)
                             .values(revoked_at=now))

    def used(self, name: str, now: datetime) -> None:
        """Note when the token was last used."""
        self.session.execute(update(api_tokens).where(api_tokens.c.name == name)
                             .values(last_used_at=now))


class SqlStartKeyRepository:
    """Idempotency keys of starts; the primary key keeps each (owner, key) once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, owner: str, key: str) -> tuple[StartKey, int] | None:
        """The key as stored and the release it started, or None."""
        query = select(start_keys).where(start_keys.c.owner == owner, start_keys.c.key == key)
        row = self.session.execute(query).one_or_none()
        if row is None:
            return None
        assert row.release_id is not None, "a key is settled in the transaction that claims it"
        return StartKey(row.owner, row.key, row.request), row.release_id

    def claim(self, start: StartKey, now: datetime) -> None:
        """Store the key at once: a concurrent twin waits on its primary key, then fails."""
        with races_as_concurrent_updates():
            self.session.execute(insert(start_keys).values(
                owner=start.owner, key=start.key, request=start.request, created_at=now))

    def settle(self, start: StartKey, release_id: int) -> None:
        """Record the release the key started."""
        self.session.execute(
            update(start_keys)
            .where(start_keys.c.owner == start.owner, start_keys.c.key == start.key)
            .values(release_id=release_id))
