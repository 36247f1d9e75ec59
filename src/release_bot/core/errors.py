"""Domain errors: a refusal as data (code, kind, outcome) with a sentence each front renders."""

from __future__ import annotations

from enum import StrEnum

from release_bot.core.models import Outcome
from release_bot.core.sentences import Sentence, say


class Kind(StrEnum):
    """What sort of refusal this is; each front picks its answer by it (status, form field…)."""

    STATE = "state"
    OUT_OF_DATE = "out_of_date"
    PERMISSION = "permission"
    VALUE = "value"
    INPUT = "input"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    UNAUTHENTICATED = "unauthenticated"


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    kind: Kind = Kind.INPUT
    outcome: Outcome = Outcome.REFUSED

    def __init__(self, sentence: Sentence | str, *, code: str | None = None,
                 kind: Kind | None = None, outcome: Outcome | None = None) -> None:
        self.sentence = sentence if isinstance(sentence, Sentence) else say("{s}", s=sentence)
        self.code = code or type(self).__name__
        if kind is not None:
            self.kind = kind
        if outcome is not None:
            self.outcome = outcome
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The refusal in plain words."""
        return self.sentence.plain


class RuleBroken(DomainError):
    """A named business rule refused or denied an attempt; `code` is the rule's name."""


class NotFound(DomainError):
    """An unknown flag, release or pipeline."""

    kind: Kind = Kind.NOT_FOUND


class InvalidInput(DomainError):
    """Input that cannot be understood (a bad value, an unknown action)."""


class ConcurrentUpdate(DomainError):
    """Someone else changed the release between our read and our write."""

    kind: Kind = Kind.CONFLICT


class MembershipUnavailable(DomainError):
    """Group membership could not be determined; the attempt is denied, never allowed."""

    kind: Kind = Kind.UNAVAILABLE
    outcome: Outcome = Outcome.DENIED
