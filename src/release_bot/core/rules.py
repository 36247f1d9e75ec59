"""Named business rules: each guard of a transition, with the sentence it says when broken."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from release_bot.core.errors import RuleBroken
from release_bot.core.models import Action, FlagKind, Outcome, Release, ReleaseState
from release_bot.core.policy import Membership, describe_principals, may_act, principals_for


class Rule(ABC):
    """A guard that either holds (None) or explains why not."""

    outcome: ClassVar[Outcome] = Outcome.REFUSED

    @abstractmethod
    def broken(self) -> str | None:
        """The message to show when the rule does not hold, else None."""


def check(*rules: Rule) -> None:
    """Raise RuleBroken for the first rule that does not hold."""
    for rule in rules:
        message = rule.broken()
        if message is not None:
            raise RuleBroken(rule, message)


_STATE_ACTIONS: dict[ReleaseState, tuple[Action, ...]] = {
    ReleaseState.AWAITING_APPROVAL: (Action.APPROVE, Action.ABORT, Action.FULL_ROLLOUT),
    ReleaseState.BAKING: (Action.PAUSE, Action.SKIP, Action.ABORT, Action.FULL_ROLLOUT),
    ReleaseState.PAUSED: (Action.UNPAUSE, Action.SKIP, Action.ABORT, Action.FULL_ROLLOUT),
    ReleaseState.COMPLETED: (),
    ReleaseState.ABORTED: (),
}


def allowed_actions(state: ReleaseState) -> tuple[Action, ...]:
    """The actions the state table accepts in a state."""
    return _STATE_ACTIONS[state]


def _label_list(actions: tuple[Action, ...]) -> str:
    labels = [a.label for a in actions]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


@dataclass(frozen=True)
class ReleaseIsActive(Rule):
    """A completed or aborted release accepts nothing more."""

    release: Release

    def broken(self) -> str | None:
        r = self.release
        if r.state is ReleaseState.COMPLETED:
            return f"Release #{r.id} of `{r.flag_key}` has already completed — nothing is left."
        if r.state is ReleaseState.ABORTED:
            return (
                f"Release #{r.id} of `{r.flag_key}` was aborted, which cannot be undone — "
                "start a new release to try again."
            )
        return None


@dataclass(frozen=True)
class ActionIsForCurrentPhase(Rule):
    """An action issued for another phase than the current one is refused (out of date)."""

    release: Release
    issued_for: int | None

    def broken(self) -> str | None:
        r = self.release
        if self.issued_for is None or self.issued_for == r.phase:
            return None
        if not 0 <= self.issued_for < len(r.pipeline.phases):
            return f"Release #{r.id} has no phase {self.issued_for}."
        was = r.pipeline.phases[self.issued_for].name
        if self.issued_for > r.phase:
            return (
                f"Release #{r.id} has not reached phase *{was}* yet: it is at phase "
                f"*{r.current_phase.name}* ({r.state.value.replace('_', ' ')})."
            )
        return (
            f"This was out of date: it was for phase *{was}*, but release #{r.id} is now at "
            f"phase *{r.current_phase.name}* ({r.state.value.replace('_', ' ')})."
        )


@dataclass(frozen=True)
class ActionFitsState(Rule):
    """Each state accepts only the actions of the state table."""

    release: Release
    action: Action

    def broken(self) -> str | None:
        r, action = self.release, self.action
        accepted = allowed_actions(r.state)
        if action in accepted:
            return None
        phase = r.current_phase.name
        if r.state is ReleaseState.AWAITING_APPROVAL:
            why = f"Phase *{phase}* is waiting for approval"
        elif action is Action.APPROVE and r.current_phase.approval is not None:
            why = f"Phase *{phase}* is already approved and live"
        elif action is Action.APPROVE:
            why = f"Phase *{phase}* is live and needs no approval"
        elif r.state is ReleaseState.BAKING:
            why = f"Phase *{phase}* is live and baking — nothing is waiting for approval or paused"
        else:
            why = f"The bake timer of phase *{phase}* is paused"
        if action is Action.PAUSE and r.state is ReleaseState.PAUSED:
            why = f"The bake timer of phase *{phase}* is already paused"
        return f"{why} — use {_label_list(accepted)}."


@dataclass(frozen=True)
class AbortHasReason(Rule):
    """Abort is irreversible, so it must say why."""

    action: Action
    reason: str | None

    def broken(self) -> str | None:
        if self.action is Action.ABORT and not (self.reason or "").strip():
            return "Abort needs a reason: say why, so the history explains the rollback."
        return None


@dataclass(frozen=True)
class ActorIsPermitted(Rule):
    """Only the pipeline's principals for an action (approve: the phase's groups) may take it."""

    outcome: ClassVar[Outcome] = Outcome.DENIED
    release: Release
    action: Action
    actor: str
    membership: Membership

    def broken(self) -> str | None:
        principals = principals_for(self.release, self.action)
        if may_act(self.actor, principals, self.membership):
            return None
        assert principals is not None
        return (
            f"You can't {self.action.label} release #{self.release.id}: only "
            f"{describe_principals(principals)} may."
        )


@dataclass(frozen=True)
class NoSelfApproval(Rule):
    """The person who triggered a release may not approve it unless the pipeline allows it."""

    outcome: ClassVar[Outcome] = Outcome.DENIED
    release: Release
    actor: str

    def broken(self) -> str | None:
        r = self.release
        if r.pipeline.allow_self_approval or r.triggered_by != self.actor:
            return None
        return (
            f"You started release #{r.id}, and pipeline *{r.pipeline.name}* does not allow "
            "approving your own release — ask another approver."
        )


@dataclass(frozen=True)
class ApprovalIsDistinct(Rule):
    """Each person counts once towards a phase's required approvals."""

    release: Release
    actor: str

    def broken(self) -> str | None:
        r = self.release
        approvers = r.approvers(r.phase)
        if self.actor not in approvers:
            return None
        required = r.current_phase.approval.required if r.current_phase.approval else 1
        return (
            f"You have already approved phase *{r.current_phase.name}* "
            f"({len(approvers)} of {required} approvals) — another approver is needed."
        )


@dataclass(frozen=True)
class OneActiveReleasePerFlag(Rule):
    """A flag has at most one active release at a time."""

    flag_key: str
    active: Release | None

    def broken(self) -> str | None:
        if self.active is None:
            return None
        return (
            f"`{self.flag_key}` already has an active release (#{self.active.id}, "
            f"{self.active.describe_state()}) — complete or abort it first."
        )


@dataclass(frozen=True)
class ValueFitsKind(Rule):
    """A gate's value is a boolean; a config's value is a JSON object."""

    kind: FlagKind
    value: Any

    def broken(self) -> str | None:
        try:
            typed = json.dumps(self.value, allow_nan=False)
        except ValueError:
            return "Values must be plain JSON: NaN and Infinity are not JSON."
        if self.kind is FlagKind.GATE and not isinstance(self.value, bool):
            return f"A feature gate's value must be true or false, not {typed}."
        if self.kind is FlagKind.CONFIG and not isinstance(self.value, dict):
            return f"A dynamic config's value must be a JSON object, not {typed}."
        return None


@dataclass(frozen=True)
class ValueChanges(Rule):
    """A release must change something: the new value differs from a current base somewhere."""

    flag_key: str
    current: tuple[Any, ...]
    new: Any

    def broken(self) -> str | None:
        new = _canonical(self.new)
        if all(_canonical(value) == new for value in self.current):
            return f"`{self.flag_key}` already has that value — a release would change nothing."
        return None


def _canonical(value: Any) -> str:
    """JSON text that tells `1` from `true` and ignores key order."""
    return json.dumps(value, sort_keys=True)


def awaits_approval_from(release: Release, user_id: str, membership: Membership) -> bool:
    """True when the release waits for an approval this user may give and has not given."""
    if release.state is not ReleaseState.AWAITING_APPROVAL:
        return False
    try:
        check(
            ActorIsPermitted(release, Action.APPROVE, user_id, membership),
            NoSelfApproval(release, user_id),
            ApprovalIsDistinct(release, user_id),
        )
    except RuleBroken:
        return False
    return True
