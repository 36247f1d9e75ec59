"""Domain errors: each carries one sentence a person can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from release_bot.core.models import Outcome

if TYPE_CHECKING:
    from release_bot.core.rules import Rule


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    outcome: Outcome = Outcome.REFUSED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def rule_name(self) -> str:
        """The name kept in the history for this refusal."""
        return type(self).__name__


class RuleBroken(DomainError):
    """A named business rule refused or denied an attempt."""

    def __init__(self, rule: Rule, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.outcome = rule.outcome

    @property
    def rule_name(self) -> str:
        """The broken rule's class name, as kept in the history."""
        return type(self.rule).__name__


class NotFound(DomainError):
    """An unknown flag, release or pipeline."""


class InvalidInput(DomainError):
    """Input that cannot be understood (a bad value, an unknown action)."""


class ConcurrentUpdate(DomainError):
    """Someone else changed the release between our read and our write."""


class MembershipUnavailable(DomainError):
    """Group membership could not be determined; the attempt is denied, never allowed."""

    outcome = Outcome.DENIED
