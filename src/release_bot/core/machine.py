"""The release state machine: its table, every move, approvals, and previews of an action.

This module is the one owner of what each state accepts and what each action does. Fronts ask
it (`allowed_actions`, `approvals`, `bake_left`, `after_bake`, `preview`) instead of restating
a rule; `preview` runs the very moves a decision would run, on a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from release_bot.core.errors import DomainError, RuleBroken
from release_bot.core.guardrails import bake_hold, joined, overridden
from release_bot.core.models import (
    GUARDRAIL_ACTOR,
    SYSTEM_ACTOR,
    Action,
    Approval,
    Command,
    Event,
    Flag,
    NoticeKind,
    Notification,
    OnFail,
    Outcome,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
    Scope,
    Transition,
)
from release_bot.core.policy import Membership
from release_bot.core.rules import (
    AbortHasReason,
    ActionFitsState,
    ActionIsForCurrentPhase,
    ActorIsPermitted,
    ApprovalIsDistinct,
    NoSelfApproval,
    ReleaseIsActive,
    TokenHasScope,
    TokensNeverApprove,
    check,
)
from release_bot.core.sentences import Sentence, say

TIMER_ACTION = "timer"
TRIGGER_ACTION = "trigger"

STATE_ACTIONS: dict[ReleaseState, tuple[Action, ...]] = {
    ReleaseState.AWAITING_APPROVAL: (Action.APPROVE, Action.ABORT, Action.FULL_ROLLOUT),
    ReleaseState.BAKING: (Action.PAUSE, Action.SKIP, Action.ABORT, Action.FULL_ROLLOUT),
    ReleaseState.PAUSED: (Action.UNPAUSE, Action.SKIP, Action.ABORT, Action.FULL_ROLLOUT),
    ReleaseState.COMPLETED: (),
    ReleaseState.ABORTED: (),
}
# what abort and full roll out make of each phase's status; others keep theirs
ABORTED_STATUS = {
    **{s: PhaseStatus.REVERTED for s in PhaseStatus if s.live},
    PhaseStatus.PENDING: PhaseStatus.CANCELLED,
    PhaseStatus.AWAITING_APPROVAL: PhaseStatus.CANCELLED,
}
ROLLED_OUT_STATUS = {
    PhaseStatus.BAKING: PhaseStatus.SKIPPED,
    PhaseStatus.PAUSED: PhaseStatus.SKIPPED,
    PhaseStatus.PENDING: PhaseStatus.ROLLED_OUT,
    PhaseStatus.AWAITING_APPROVAL: PhaseStatus.ROLLED_OUT,
}


def allowed_actions(state: ReleaseState) -> tuple[Action, ...]:
    """The actions the state table accepts in a state."""
    return STATE_ACTIONS[state]


@dataclass(frozen=True)
class Approvals:
    """Where a phase's approval stands: who approved, and how many are required."""

    approvers: tuple[str, ...]
    required: int

    @property
    def got(self) -> int:
        """Approvals given so far."""
        return len(self.approvers)

    @property
    def remaining(self) -> int:
        """Approvals still needed before the phase goes live."""
        return max(self.required - self.got, 0)


def approvals(release: Release, index: int) -> Approvals:
    """Where the approval of phase `index` stands (a phase without a gate needs one click)."""
    gate = release.pipeline.phases[index].approval
    return Approvals(release.approvers(index), gate.required if gate is not None else 1)


def bake_left(release: Release, now: datetime) -> timedelta | None:
    """Time left on the current phase's bake timer (running or paused); None without one."""
    if release.state is ReleaseState.BAKING and release.bake_ends_at is not None:
        return max(release.bake_ends_at - now, timedelta(0))
    if release.state is ReleaseState.PAUSED:
        return release.remaining or timedelta(0)
    return None


@dataclass(frozen=True)
class Effect:
    """What a move changes in what is served: phases going live, one waiting, or completion;
    for a bake's end, also what holds it back (checks that have not passed)."""

    goes_live: tuple[int, ...] = ()
    taken_down: tuple[int, ...] = ()
    waits_for: int | None = None
    completes: bool = False
    held_by: Sentence | None = None


@dataclass(frozen=True)
class Preview:
    """What an action would do now, found by running its moves on a copy of the release."""

    action: Action
    phase: int
    after: Release
    effect: Effect
    approvals: Approvals
    bake_left: timedelta | None
    bakes_for: timedelta | None
    bypassed_gates: tuple[int, ...]
    then: Effect | None
    overrides: Sentence | None = None


def _effect(before: Release, after: Release) -> Effect:
    """The difference in serving between two states of a release."""
    live_before, live_after = set(before.live_phases()), set(after.live_phases())
    if after.state is ReleaseState.COMPLETED:
        live_after = set(range(len(after.pipeline.phases)))
    waits = after.phase if after.state is ReleaseState.AWAITING_APPROVAL else None
    return Effect(
        goes_live=tuple(sorted(live_after - live_before)),
        taken_down=tuple(sorted(live_before - live_after)),
        waits_for=waits if waits != before.phase or before.state is not after.state else None,
        completes=after.state is ReleaseState.COMPLETED,
    )


def effect_sentence(release: Release, effect: Effect) -> Sentence:
    """What a move does, in words: `phase {Canary} goes live, then the release completes`."""
    names = {f"p{i}": release.pipeline.phases[i].name for i in range(len(release.pipeline.phases))}
    parts = [f"phase {{p{i}:name}} goes live" for i in effect.goes_live]
    if effect.waits_for is not None:
        parts.append(f"phase {{p{effect.waits_for}:name}} waits for approval")
    if effect.completes:
        parts.append("the release completes")
    return Sentence(", then ".join(parts) or "nothing changes", names)


def after_bake(release: Release) -> Effect | None:
    """What the end of the current phase's bake does (None when no bake runs or is paused),
    and which checks hold it back until their latest measurement passes."""
    if release.state not in (ReleaseState.BAKING, ReleaseState.PAUSED):
        return None
    # an Effect carries no times, so the moment the simulated bake ends does not matter
    steps = _Steps(replace(release, state=ReleaseState.BAKING), release.created_at)
    steps.end_bake(PhaseStatus.DONE)
    return replace(_effect(release, steps.release), held_by=bake_hold(release))


def preview(release: Release, action: Action, actor: str, now: datetime) -> Preview:
    """What `action` by `actor` would do now, if it were allowed (rules are not checked)."""
    steps = _Steps(release, now)
    _MOVES[action](steps, actor)
    after = steps.release
    gated = tuple(
        i for i, (was, phase) in enumerate(zip(release.phase_statuses, release.pipeline.phases,
                                                strict=True))
        if phase.approval is not None and ROLLED_OUT_STATUS.get(was) is PhaseStatus.ROLLED_OUT
        and approvals(release, i).remaining > 0
    ) if action is Action.FULL_ROLLOUT else ()
    return Preview(
        action=action,
        phase=release.phase,
        after=after,
        effect=_effect(release, after),
        approvals=approvals(after, release.phase),
        bake_left=bake_left(release, now),
        bakes_for=bake_left(after, now) if after.phase == release.phase else None,
        bypassed_gates=gated,
        then=after_bake(release) if action in (Action.PAUSE, Action.UNPAUSE) else None,
        overrides=_overrides(release, action),
    )


def _overrides(release: Release, action: Action) -> Sentence | None:
    """The checks a Skip or Full Roll Out goes past while they fail, are blind or never ran."""
    if action is Action.SKIP:
        return bake_hold(release)
    if action is Action.FULL_ROLLOUT:
        return overridden(release)
    return None


def awaits_approval_from(release: Release, user_id: str, membership: Membership) -> bool:
    """True when the release waits for an approval this user may give and has not given."""
    if release.state is not ReleaseState.AWAITING_APPROVAL:
        return False
    try:
        _check_actor(release, Action.APPROVE, user_id, membership)
    except RuleBroken:
        return False
    return True


class _Steps:
    """Accumulates the changes of one decision; every method is one move of the state table."""

    def __init__(self, release: Release, now: datetime) -> None:
        self.release = release
        self.now = now
        self.notes: list[Notification] = []

    def _set(self, **changes: object) -> None:
        self.release = replace(self.release, **changes)  # type: ignore[arg-type]

    def _status(self, index: int, status: PhaseStatus) -> None:
        statuses = list(self.release.phase_statuses)
        statuses[index] = status
        self._set(phase_statuses=tuple(statuses))

    def _note(self, kind: NoticeKind, **data: object) -> None:
        self.notes.append(Notification(kind, {"phase": self.release.phase, **data}))

    def enter_phase(self, index: int) -> None:
        """Wait for the phase's approval if it has a gate, else put it live."""
        gate = self.release.pipeline.phases[index].approval
        if gate is None:
            self.go_live(index)
            return
        self._set(
            state=ReleaseState.AWAITING_APPROVAL, phase=index, bake_ends_at=None, remaining=None,
            held_since=None,
        )
        self._set(awaiting_since=self.now, escalated=False)
        self._schedule_reminder()
        self._status(index, PhaseStatus.AWAITING_APPROVAL)
        self._note(NoticeKind.APPROVAL_NEEDED, groups=list(gate.groups), required=gate.required,
                   approved=list(self.release.approvers(index)))

    def go_live(self, index: int) -> None:
        """Serve the new version in the phase's scope and start its bake timer.

        A phase without a bake passes straight on, unless it has checks: those must pass first.
        """
        phase = self.release.pipeline.phases[index]
        self._set(state=ReleaseState.BAKING, phase=index, bake_ends_at=self.now + phase.bake)
        self._set(remaining=None, awaiting_since=None, remind_at=None, escalated=False,
                  held_since=None)
        self._status(index, PhaseStatus.BAKING)
        if phase.bake <= timedelta(0) and not phase.checks:
            self.end_bake(PhaseStatus.DONE)

    def end_bake(self, status: PhaseStatus) -> None:
        """Close the current phase's bake and move to the next phase or complete."""
        self._status(self.release.phase, status)
        if self.release.phase + 1 == len(self.release.pipeline.phases):
            self.complete()
        else:
            self.enter_phase(self.release.phase + 1)

    def hold(self) -> None:
        """Stop the bake's timer at its end: checks of the phase have not passed yet."""
        self._set(bake_ends_at=None, held_since=self.now)

    def _schedule_reminder(self) -> None:
        """Next reminder (or escalation) of a waiting approval, counted from now."""
        r = self.release
        due = self.now + r.pipeline.remind_every
        if r.pipeline.escalate_to and not r.escalated and r.awaiting_since is not None:
            due = min(due, max(self.now, r.awaiting_since + r.pipeline.escalate_after))
        self._set(remind_at=due)

    def _end(self, state: ReleaseState, notice: NoticeKind) -> None:
        """Stop every timer and reminder, and tell the channel and whoever started it."""
        self._set(state=state, bake_ends_at=None, remaining=None, ended_at=self.now,
                  held_since=None)
        self._set(awaiting_since=None, remind_at=None, escalated=False)
        self._note(notice)
        self._note(NoticeKind.STARTER_TOLD, to=self.release.triggered_by, outcome=state.value)

    def remind(self) -> None:
        """Remind the approvers, or escalate once the wait has passed escalate_after."""
        r = self.release
        gate = r.current_phase.approval
        since = r.awaiting_since or self.now
        if (
            r.pipeline.escalate_to
            and not r.escalated
            and self.now >= since + r.pipeline.escalate_after
        ):
            self._set(escalated=True)
            self._note(
                NoticeKind.ESCALATION,
                groups=list(r.pipeline.escalate_to),
                waited=(self.now - since).total_seconds(),
            )
        else:
            count = approvals(r, r.phase)
            self._note(
                NoticeKind.REMINDER,
                groups=list(gate.groups) if gate else [],
                waited=(self.now - since).total_seconds(),
                required=count.required,
                approved=list(count.approvers),
            )
        self._schedule_reminder()

    def complete(self) -> None:
        """The new version becomes the base everywhere; the release ends."""
        self._end(ReleaseState.COMPLETED, NoticeKind.COMPLETED)

    def approve(self, actor: str) -> None:
        """Count a distinct approval; put the phase live once enough are in."""
        r = self.release
        self._set(approvals=(*r.approvals, Approval(r.phase, actor, self.now)))
        if approvals(self.release, r.phase).remaining == 0:
            self.go_live(r.phase)
        else:
            self._schedule_reminder()

    def pause(self) -> None:
        """Stop the bake timer, keeping the time that was left."""
        ends = self.release.bake_ends_at
        left = max(ends - self.now, timedelta(0)) if ends else timedelta(0)
        self._set(state=ReleaseState.PAUSED, bake_ends_at=None, remaining=left, held_since=None)
        self._status(self.release.phase, PhaseStatus.PAUSED)

    def unpause(self) -> None:
        """Resume the bake timer with the time that was left."""
        left = self.release.remaining or timedelta(0)
        self._set(state=ReleaseState.BAKING, bake_ends_at=self.now + left, remaining=None)
        self._status(self.release.phase, PhaseStatus.BAKING)

    def abort(self) -> None:
        """Drop every live scope; the bases were never touched, so the old values return."""
        statuses = tuple(ABORTED_STATUS.get(s, s) for s in self.release.phase_statuses)
        self._set(phase_statuses=statuses)
        self._end(ReleaseState.ABORTED, NoticeKind.ABORTED)

    def full_rollout(self) -> None:
        """Put every remaining phase live at once and complete."""
        statuses = tuple(ROLLED_OUT_STATUS.get(s, s) for s in self.release.phase_statuses)
        self._set(phase_statuses=statuses)
        self.complete()


def start(flag: Flag, pipeline: Pipeline, to_version: int, actor: str, now: datetime) -> Transition:
    """Trigger a release: phase 0 waits for approval if gated, else goes live."""
    draft = Release(
        id=None,
        flag_key=flag.key,
        pipeline=pipeline,
        from_version=flag.base_version(pipeline.environments[0]),
        to_version=to_version,
        triggered_by=actor,
        created_at=now,
        state=ReleaseState.AWAITING_APPROVAL,
        phase=0,
        phase_statuses=(PhaseStatus.PENDING,) * len(pipeline.phases),
    )
    steps = _Steps(draft, now)
    steps.notes.append(Notification(NoticeKind.RELEASE_STARTED, {"phase": 0}))
    steps.enter_phase(0)
    message = say("started a release of {flag:flag} to version {version} through pipeline "
                  "{pipeline:name}", flag=flag.key, version=to_version, pipeline=pipeline.name)
    return _finish(steps, draft, TRIGGER_ACTION, actor, message, triggered=True)


def applicable(release: Release, action: Action, phase: int | None) -> None:
    """Raise RuleBroken unless the action still applies to the release (active, phase, state)."""
    check(
        ReleaseIsActive(release),
        ActionIsForCurrentPhase(release, phase),
        ActionFitsState(release, action, allowed_actions(release.state)),
    )


def _check_actor(release: Release, action: Action, actor: str, membership: Membership) -> None:
    """Raise RuleBroken unless this person may take the action (and, to approve, count)."""
    check(ActorIsPermitted(release, action, actor, membership))
    if action is Action.APPROVE:
        required = approvals(release, release.phase).required
        check(NoSelfApproval(release, actor), ApprovalIsDistinct(release, actor, required))


def _approve(steps: _Steps, actor: str) -> Sentence:
    phase = steps.release.phase
    steps.approve(actor)
    count = approvals(steps.release, phase)
    return say("approved phase {phase:name} ({got} of {required})",
               phase=steps.release.pipeline.phases[phase].name, got=count.got,
               required=count.required)


def _pause(steps: _Steps, actor: str) -> Sentence:
    steps.pause()
    left = (steps.release.remaining or timedelta(0)).total_seconds()
    return say("paused the bake timer of phase {phase:name} with {left:duration} left",
               phase=steps.release.current_phase.name, left=left)


def _unpause(steps: _Steps, actor: str) -> Sentence:
    steps.unpause()
    return say("resumed the bake timer of phase {phase:name}",
               phase=steps.release.current_phase.name)


def _skip(steps: _Steps, actor: str) -> Sentence:
    name = steps.release.current_phase.name
    holding = bake_hold(steps.release)
    steps.end_bake(PhaseStatus.SKIPPED)
    said = say("skipped the rest of the bake of phase {phase:name}", phase=name)
    return said if holding is None else joined(said, holding, ", overriding ")


def _abort(steps: _Steps, actor: str) -> Sentence:
    steps.abort()
    return say("aborted the release; every environment serves its pre-release value again")


def _full_rollout(steps: _Steps, actor: str) -> Sentence:
    failing = overridden(steps.release)
    steps.full_rollout()
    said = say("rolled out every remaining phase at once")
    return said if failing is None else joined(said, failing, ", overriding ")


_MOVES = {
    Action.APPROVE: _approve,
    Action.PAUSE: _pause,
    Action.UNPAUSE: _unpause,
    Action.SKIP: _skip,
    Action.ABORT: _abort,
    Action.FULL_ROLLOUT: _full_rollout,
}


def decide(release: Release, command: Command, now: datetime, membership: Membership) -> Transition:
    """Apply a person's action, or raise RuleBroken with the rule that refused or denied it."""
    action = command.action
    check(TokenHasScope(command.actor, command.scopes, Scope.ACT),
          TokensNeverApprove(action, command.actor))
    applicable(release, action, command.phase)
    check(AbortHasReason(action, command.reason))
    _check_actor(release, action, command.actor, membership)
    steps = _Steps(release, now)
    message = _MOVES[action](steps, command.actor)
    steps.notes.insert(0, Notification(NoticeKind.ACTION_TAKEN, {
        "phase": release.phase,
        "action": action.value,
        "actor": command.actor,
        "reason": command.reason,
        "sentence": message.data(),
    }))
    return _finish(steps, release, action.value, command.actor, message, reason=command.reason)


def timer_end(release: Release, now: datetime) -> Transition | None:
    """End a due bake timer — or a held one whose checks now pass; None when nothing is due.

    A bake ends only when the latest measurement of every check of the phase passed. When its
    time runs out before that, the release is held (the timer stops, `held_since` is set, the
    history says which check holds it) until the checks pass or a person skips.
    """
    ends = release.bake_ends_at
    held = release.held_since is not None
    if release.state is not ReleaseState.BAKING or not (held or (ends is not None and ends <= now)):
        return None
    name = release.current_phase.name
    steps = _Steps(release, now)
    holding = bake_hold(release)
    if holding is not None:
        if held:
            return None
        steps.hold()
        message = joined(say("the bake time of phase {phase:name} is over, but the bake is "
                             "held: ", phase=name), holding, "")
        return _finish(steps, release, TIMER_ACTION, SYSTEM_ACTOR, message)
    steps.end_bake(PhaseStatus.DONE)
    message = (say("the bake of phase {phase:name} ended once its checks passed", phase=name)
               if held else say("the bake of phase {phase:name} ended", phase=name))
    return _finish(steps, release, TIMER_ACTION, SYSTEM_ACTOR, message)


def guard(release: Release, act: OnFail, reason: Sentence, now: datetime) -> Transition | None:
    """The guardrail pauses or aborts a release whose check failed (None: nothing to do).

    It acts as GUARDRAIL_ACTOR, outside people's permissions. A pause stops a running bake;
    a release that is already paused, or waits for an approval (no bake runs), is left as it
    is — its failing check still holds the next bake end.
    """
    if not release.active:
        return None
    action = Action.ABORT if act is OnFail.ABORT else Action.PAUSE
    if action not in allowed_actions(release.state) or (
        action is Action.PAUSE and release.state is not ReleaseState.BAKING
    ):
        return None
    steps = _Steps(release, now)
    message = _MOVES[action](steps, GUARDRAIL_ACTOR)
    steps.notes.insert(0, Notification(NoticeKind.ACTION_TAKEN, {
        "phase": release.phase,
        "action": action.value,
        "actor": GUARDRAIL_ACTOR,
        "reason": reason.plain,
        "sentence": message.data(),
        "why": reason.data(),
    }))
    return _finish(steps, release, action.value, GUARDRAIL_ACTOR, message, reason=reason.plain)


def remind(release: Release, now: datetime) -> Transition | None:
    """Remind or escalate a waiting approval whose reminder is due; None when nothing is due."""
    due = release.remind_at
    if release.state is not ReleaseState.AWAITING_APPROVAL or due is None or due > now:
        return None
    steps = _Steps(release, now)
    steps.remind()
    return Transition(steps.release, (), tuple(steps.notes))


def refusal(release: Release, command: Command, error: DomainError, now: datetime) -> Event:
    """The history row that records a refused or denied action on a release."""
    return replace(
        refused_start(release.flag_key, command.actor, error, now),
        action=command.action.value,
        release_id=command.release_id,
        phase=release.phase if command.phase is None else command.phase,
        from_state=release.describe_state(),
        to_state=release.describe_state(),
        reason=command.reason,
    )


def refused_start(flag_key: str, actor: str, error: DomainError, now: datetime) -> Event:
    """The history row that records a refused attempt to start a release of a flag."""
    return Event(flag_key=flag_key, at=now, actor=actor, action=TRIGGER_ACTION,
                 outcome=error.outcome, message=error.message, rule=error.code)


def _finish(
    steps: _Steps,
    before: Release,
    action: str,
    actor: str,
    message: Sentence,
    *,
    triggered: bool = False,
    reason: str | None = None,
) -> Transition:
    """Wrap the accumulated steps into one history event and the notifications to deliver."""
    after = steps.release
    notes = list(steps.notes)
    if not triggered:
        notes.insert(0, Notification(NoticeKind.STATUS_CHANGED, {"phase": after.phase}))
    event = Event(
        flag_key=after.flag_key,
        at=steps.now,
        actor=actor,
        action=action,
        outcome=Outcome.OK,
        message=message.plain,
        release_id=after.id,
        phase=before.phase,
        from_state=None if triggered else before.describe_state(),
        to_state=after.describe_state(),
        reason=reason,
    )
    return Transition(after, (event,), tuple(notes))
