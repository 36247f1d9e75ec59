"""Named business rules: each guard of a use case, with the sentence it says when broken."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from release_bot.core.errors import Kind, RuleBroken
from release_bot.core.models import Action, FlagKind, Outcome, Release, ReleaseState, Scope
from release_bot.core.policy import Membership, is_token, may_act, principals_for
from release_bot.core.sentences import Sentence, join_words, say


class Rule(ABC):
    """A guard that either holds (None) or says why not."""

    outcome: ClassVar[Outcome] = Outcome.REFUSED
    kind: ClassVar[Kind] = Kind.STATE

    @abstractmethod
    def broken(self) -> Sentence | None:
        """The sentence to show when the rule does not hold, else None."""

    def refusal_kind(self) -> Kind:
        """The kind of refusal this rule makes (some rules refine it per case)."""
        return self.kind


def check(*rules: Rule) -> None:
    """Raise RuleBroken for the first rule that does not hold."""
    for rule in rules:
        sentence = rule.broken()
        if sentence is not None:
            raise RuleBroken(sentence, code=type(rule).__name__, kind=rule.refusal_kind(),
                             outcome=rule.outcome)


def _state_words(release: Release) -> str:
    return release.state.value.replace("_", " ")


@dataclass(frozen=True)
class ReleaseIsActive(Rule):
    """A completed or aborted release accepts nothing more."""

    kind: ClassVar[Kind] = Kind.OUT_OF_DATE
    release: Release

    def broken(self) -> Sentence | None:
        r = self.release
        if r.state is ReleaseState.COMPLETED:
            return say("Release #{id} of {flag:flag} has already completed — nothing is left.",
                       id=r.id, flag=r.flag_key)
        if r.state is ReleaseState.ABORTED:
            return say(
                "Release #{id} of {flag:flag} was aborted, which cannot be undone — "
                "start a new release to try again.", id=r.id, flag=r.flag_key)
        return None


@dataclass(frozen=True)
class ActionIsForCurrentPhase(Rule):
    """An action issued for an earlier phase than the current one is out of date."""

    release: Release
    issued_for: int | None

    def refusal_kind(self) -> Kind:
        """Out of date for an earlier phase; a phase not reached yet is a state refusal."""
        behind = self.issued_for is not None and 0 <= self.issued_for < self.release.phase
        return Kind.OUT_OF_DATE if behind else Kind.STATE

    def broken(self) -> Sentence | None:
        r = self.release
        if self.issued_for is None or self.issued_for == r.phase:
            return None
        if not 0 <= self.issued_for < len(r.pipeline.phases):
            return say("Release #{id} has no phase {n}.", id=r.id, n=self.issued_for)
        words = {"id": r.id, "was": r.pipeline.phases[self.issued_for].name,
                 "now": r.current_phase.name, "state": _state_words(r)}
        if self.issued_for > r.phase:
            return say("Release #{id} has not reached phase {was:name} yet: it is at phase "
                       "{now:name} ({state}).", **words)
        return say("This was out of date: it was for phase {was:name}, but release #{id} is "
                   "now at phase {now:name} ({state}).", **words)


@dataclass(frozen=True)
class ActionFitsState(Rule):
    """Each state accepts only the actions of the state table (`accepted`)."""

    release: Release
    action: Action
    accepted: tuple[Action, ...]

    def broken(self) -> Sentence | None:
        r, action = self.release, self.action
        if action in self.accepted:
            return None
        if r.state is ReleaseState.AWAITING_APPROVAL:
            why = "Phase {phase:name} is waiting for approval"
        elif action is Action.APPROVE and r.current_phase.approval is not None:
            why = "Phase {phase:name} is already approved and live"
        elif action is Action.APPROVE:
            why = "Phase {phase:name} is live and needs no approval"
        elif action is Action.PAUSE and r.state is ReleaseState.PAUSED:
            why = "The bake timer of phase {phase:name} is already paused"
        elif r.state is ReleaseState.BAKING:
            why = ("Phase {phase:name} is live and baking — nothing is waiting for approval "
                   "or paused")
        else:
            why = "The bake timer of phase {phase:name} is paused"
        use = join_words([a.label for a in self.accepted])
        return say(why + " — use {use}.", phase=r.current_phase.name, use=use)


@dataclass(frozen=True)
class AbortHasReason(Rule):
    """Abort is irreversible, so it must say why."""

    kind: ClassVar[Kind] = Kind.INPUT
    action: Action
    reason: str | None

    def broken(self) -> Sentence | None:
        if self.action is Action.ABORT and not (self.reason or "").strip():
            return say("Abort needs a reason: say why, so the history explains the rollback.")
        return None


@dataclass(frozen=True)
class ActorIsPermitted(Rule):
    """Only the pipeline's principals for an action (approve: the phase's groups) may take it."""

    outcome: ClassVar[Outcome] = Outcome.DENIED
    kind: ClassVar[Kind] = Kind.PERMISSION
    release: Release
    action: Action
    actor: str
    membership: Membership

    def broken(self) -> Sentence | None:
        principals = principals_for(self.release, self.action)
        if may_act(self.actor, principals, self.membership):
            return None
        return say("You can't {action} release #{id}: only {who:principals} may.",
                   action=self.action.label, id=self.release.id, who=list(principals or ()))


@dataclass(frozen=True)
class TokenHasScope(Rule):
    """An API token does only what it was created for (`--can read|start|act`)."""

    outcome: ClassVar[Outcome] = Outcome.DENIED
    kind: ClassVar[Kind] = Kind.PERMISSION
    actor: str
    scopes: frozenset[Scope] | None
    needed: Scope

    def broken(self) -> Sentence | None:
        if self.scopes is None or self.needed in self.scopes:
            return None
        return say("{who:person} may not {needed}: it was created with --can {has} — create a "
                   "token with --can {needed} for this.", who=self.actor,
                   needed=self.needed.value,
                   has=join_words(sorted(s.value for s in self.scopes), "and") or "nothing")


@dataclass(frozen=True)
class TokensNeverApprove(Rule):
    """Approvals are for people: an API token can never approve, whatever it may do."""

    outcome: ClassVar[Outcome] = Outcome.DENIED
    kind: ClassVar[Kind] = Kind.PERMISSION
    action: Action
    actor: str

    def broken(self) -> Sentence | None:
        if self.action is not Action.APPROVE or not is_token(self.actor):
            return None
        return say("{who:person} is an API token, and approvals are for people: ask an "
                   "approver to approve in Slack.", who=self.actor)


@dataclass(frozen=True)
class NoSelfApproval(Rule):
    """The person who triggered a release may not approve it unless the pipeline allows it."""

    outcome: ClassVar[Outcome] = Outcome.DENIED
    kind: ClassVar[Kind] = Kind.PERMISSION
    release: Release
    actor: str

    def broken(self) -> Sentence | None:
        r = self.release
        if r.pipeline.allow_self_approval or r.triggered_by != self.actor:
            return None
        return say("You started release #{id}, and pipeline {pipeline:name} does not allow "
                   "approving your own release — ask another approver.",
                   id=r.id, pipeline=r.pipeline.name)


@dataclass(frozen=True)
class ApprovalIsDistinct(Rule):
    """Each person counts once towards a phase's required approvals."""

    release: Release
    actor: str
    required: int

    def broken(self) -> Sentence | None:
        r = self.release
        approvers = r.approvers(r.phase)
        if self.actor not in approvers:
            return None
        return say("You have already approved phase {phase:name} ({got} of {required} "
                   "approvals) — another approver is needed.", phase=r.current_phase.name,
                   got=len(approvers), required=self.required)


@dataclass(frozen=True)
class OneActiveReleasePerFlag(Rule):
    """A flag has at most one active release at a time."""

    kind: ClassVar[Kind] = Kind.CONFLICT
    flag_key: str
    active: Release | None

    def broken(self) -> Sentence | None:
        if self.active is None:
            return None
        return say("{flag:flag} already has an active release (#{id}, {state}) — complete or "
                   "abort it first.", flag=self.flag_key, id=self.active.id,
                   state=self.active.describe_state())


@dataclass(frozen=True)
class ValueFitsKind(Rule):
    """A gate's value is a boolean; a config's value is a JSON object."""

    kind: ClassVar[Kind] = Kind.VALUE
    flag_kind: FlagKind
    value: Any

    def broken(self) -> Sentence | None:
        try:
            json.dumps(self.value, allow_nan=False)
        except ValueError:
            return say("Values must be plain JSON: NaN and Infinity are not JSON.")
        if self.flag_kind is FlagKind.GATE and not isinstance(self.value, bool):
            return say("A feature gate's value must be true or false, not {value:json}.",
                       value=self.value)
        if self.flag_kind is FlagKind.CONFIG and not isinstance(self.value, dict):
            return say("A dynamic config's value must be a JSON object, not {value:json}.",
                       value=self.value)
        return None


@dataclass(frozen=True)
class ValueChanges(Rule):
    """A release must change something: the new value differs from a current base somewhere."""

    kind: ClassVar[Kind] = Kind.VALUE
    flag_key: str
    current: tuple[Any, ...]
    new: Any

    def broken(self) -> Sentence | None:
        new = _canonical(self.new)
        if all(_canonical(value) == new for value in self.current):
            return say("{flag:flag} already has that value — a release would change nothing.",
                       flag=self.flag_key)
        return None


def _canonical(value: Any) -> str:
    """JSON text that tells `1` from `true` and ignores key order."""
    return json.dumps(value, sort_keys=True)
