"""API tokens: who a request acts as, what it may do, and the use cases that manage them.

A token's secret is 256 random bits made by the front; only its SHA-256 is kept. A slow
password hash protects guessable secrets, which these are not, and would cost every request
tens of milliseconds; a plain digest is looked up by index in one query.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from release_bot.core.errors import DomainError, InvalidInput, Kind, NotFound
from release_bot.core.models import Scope, Token
from release_bot.core.ports import Reads, TokenReader, UnitOfWork
from release_bot.core.quoting import shown
from release_bot.core.sentences import say

TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# `last used` is written at most this often per token, so reads stay reads
LAST_USED_PRECISION = timedelta(minutes=1)
UNAUTHENTICATED = ("Send a valid API token as 'Authorization: Bearer SECRET' — create one with "
                   "release-bot token create NAME --can read.")


def digest(secret: str) -> str:
    """The SHA-256 of a secret, as stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_token_name(name: str) -> None:
    """Raise InvalidInput unless name can name a token: letters, digits, '_', '.', '-' (≤ 64)."""
    if not TOKEN_NAME.fullmatch(name):
        raise InvalidInput(say("'{name}' is not a valid token name: use letters, digits, '_', "
                               "'.' or '-', at most 64.", name=shown(name)))


class TokenService:
    """Create, list, revoke and authenticate API tokens."""

    def __init__(self, uow: Callable[[], UnitOfWork], reads: Callable[[], Reads] | None = None
                 ) -> None:
        self.uow = uow
        self.reads = uow if reads is None else reads

    def create(self, name: str, scopes: Iterable[Scope], secret: str, actor: str,
               now: datetime) -> Token:
        """Keep a new token under the digest of `secret`; a name is never used twice, so the
        history's `token:NAME` always means one token."""
        check_token_name(name)
        wanted = frozenset(scopes)
        if not wanted:
            raise InvalidInput("Say what the token may do: --can read, start or act.")
        token = Token(name, wanted, now, actor)
        with self.uow() as uow:
            if uow.tokens.get(name) is not None:
                raise InvalidInput(say("There is already a token {name} (revoked or not): "
                                       "choose another name.", name=name), kind=Kind.CONFLICT)
            uow.tokens.add(token, digest(secret))
            uow.commit()
        return token

    def tokens(self) -> Sequence[Token]:
        """Every token, revoked ones included, by name."""
        with self.reads() as reads:
            return reads.tokens.list()

    def revoke(self, name: str, now: datetime) -> Token:
        """End a token: its next request is refused."""
        with self.uow() as uow:
            token = _existing(uow.tokens, name)
            if token.revoked_at is not None:
                raise InvalidInput(say("Token {name} was already revoked.", name=name),
                                   kind=Kind.CONFLICT)
            uow.tokens.revoke(name, now)
            uow.commit()
        return replace(token, revoked_at=now)

    def authenticate(self, secret: str, now: datetime) -> Token:
        """The live token with this secret, else a refusal; its last use is noted to the minute,
        so most requests only read."""
        with self.reads() as reads:
            token = reads.tokens.by_digest(digest(secret))
        if token is None or token.revoked_at is not None:
            raise DomainError(UNAUTHENTICATED, code="Unauthenticated", kind=Kind.UNAUTHENTICATED)
        last = token.last_used_at
        if last is None or now - last >= LAST_USED_PRECISION:
            with self.uow() as uow:
                uow.tokens.used(token.name, now)
                uow.commit()
        return token


def _existing(tokens: TokenReader, name: str) -> Token:
    token = tokens.get(name)
    if token is None:
        raise NotFound(say("There is no token {name}.", name=shown(name)))
    return token
