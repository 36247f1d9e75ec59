"""The release state machine: trigger, timer end and every person's action, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from release_bot.core.durations import format_duration
from release_bot.core.errors import DomainError
from release_bot.core.models import (
    SYSTEM_ACTOR,
    Action,
    Approval,
    Command,
    Event,
    Flag,
    NoticeKind,
    Notification,
    Outcome,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
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
    check,
)

TIMER_ACTION = "timer"
TRIGGER_ACTION = "trigger"


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
            state=ReleaseState.AWAITING_APPROVAL, phase=index, bake_ends_at=None, remaining=None
        )
        self._set(awaiting_since=self.now, escalated=False)
        self._schedule_reminder()
        self._status(index, PhaseStatus.AWAITING_APPROVAL)
        self._note(NoticeKind.APPROVAL_NEEDED, groups=list(gate.groups), required=gate.required)

    def go_live(self, index: int) -> None:
        """Serve the new version in the phase's scope and start its bake timer."""
        bake = self.release.pipeline.phases[index].bake
        self._set(state=ReleaseState.BAKING, phase=index, bake_ends_at=self.now + bake)
        self._set(remaining=None, awaiting_since=None, remind_at=None, escalated=False)
        self._status(index, PhaseStatus.BAKING)
        if bake <= timedelta(0):
            self.end_bake(PhaseStatus.DONE)

    def end_bake(self, status: PhaseStatus) -> None:
        """Close the current phase's bake and move to the next phase or complete."""
        self._status(self.release.phase, status)
        if self.release.phase + 1 == len(self.release.pipeline.phases):
            self.complete()
        else:
            self.enter_phase(self.release.phase + 1)

    def _schedule_reminder(self) -> None:
        """Next reminder (or escalation) of a waiting approval, counted from now."""
        r = self.release
        due = self.now + r.pipeline.remind_every
        if r.pipeline.escalate_to and not r.escalated and r.awaiting_since is not None:
            due = min(due, max(self.now, r.awaiting_since + r.pipeline.escalate_after))
        self._set(remind_at=due)

    def _end(self, state: ReleaseState, notice: NoticeKind) -> None:
        """Stop every timer and reminder, and tell the channel and whoever started it."""
        self._set(state=state, bake_ends_at=None, remaining=None, ended_at=self.now)
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
            self._note(
                NoticeKind.REMINDER,
                groups=list(gate.groups) if gate else [],
                waited=(self.now - since).total_seconds(),
            )
        self._schedule_reminder()

    def complete(self) -> None:
        """The new version becomes the base everywhere; the release ends."""
        self._end(ReleaseState.COMPLETED, NoticeKind.COMPLETED)

    def approve(self, actor: str) -> int:
        """Count a distinct approval; put the phase live once enough are in. Returns the count."""
        r = self.release
        self._set(approvals=(*r.approvals, Approval(r.phase, actor, self.now)))
        count = len(self.release.approvers(r.phase))
        gate = r.current_phase.approval
        if gate is None or count >= gate.required:
            self.go_live(r.phase)
        else:
            self._schedule_reminder()
        return count

    def pause(self) -> None:
        """Stop the bake timer, keeping the time that was left."""
        ends = self.release.bake_ends_at
        left = max(ends - self.now, timedelta(0)) if ends else timedelta(0)
        self._set(state=ReleaseState.PAUSED, bake_ends_at=None, remaining=left)
        self._status(self.release.phase, PhaseStatus.PAUSED)

    def unpause(self) -> None:
        """Resume the bake timer with the time that was left."""
        left = self.release.remaining or timedelta(0)
        self._set(state=ReleaseState.BAKING, bake_ends_at=self.now + left, remaining=None)
        self._status(self.release.phase, PhaseStatus.BAKING)

    def abort(self) -> None:
        """Drop every live scope; the bases were never touched, so the old values return."""
        statuses = tuple(
            PhaseStatus.REVERTED
            if s.live
            else (
                PhaseStatus.CANCELLED
                if s in (PhaseStatus.PENDING, PhaseStatus.AWAITING_APPROVAL)
                else s
            )
            for s in self.release.phase_statuses
        )
        self._set(phase_statuses=statuses)
        self._end(ReleaseState.ABORTED, NoticeKind.ABORTED)

    def full_rollout(self) -> None:
        """Put every remaining phase live at once and complete."""
        statuses = tuple(
            PhaseStatus.SKIPPED
            if s in (PhaseStatus.BAKING, PhaseStatus.PAUSED)
            else (
                PhaseStatus.ROLLED_OUT
                if s in (PhaseStatus.PENDING, PhaseStatus.AWAITING_APPROVAL)
                else s
            )
            for s in self.release.phase_statuses
        )
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
    message = (
        f"started a release of `{flag.key}` to version {to_version} "
        f"through pipeline *{pipeline.name}*"
    )
    return _finish(steps, draft, TRIGGER_ACTION, actor, message, triggered=True)


def applicable(release: Release, action: Action, phase: int | None) -> None:
    """Raise RuleBroken unless the action still applies to the release (active, phase, state)."""
    check(
        ReleaseIsActive(release),
        ActionIsForCurrentPhase(release, phase),
        ActionFitsState(release, action),
    )


def decide(release: Release, command: Command, now: datetime, membership: Membership) -> Transition:
    """Apply a person's action, or raise RuleBroken with the rule that refused or denied it."""
    action = command.action
    applicable(release, action, command.phase)
    check(
        AbortHasReason(action, command.reason),
        ActorIsPermitted(release, action, command.actor, membership),
    )
    if action is Action.APPROVE:
        check(NoSelfApproval(release, command.actor), ApprovalIsDistinct(release, command.actor))
    steps = _Steps(release, now)
    phase = release.current_phase
    if action is Action.APPROVE:
        count = steps.approve(command.actor)
        required = phase.approval.required if phase.approval else 1
        message = f"approved phase *{phase.name}* ({count} of {required})"
    elif action is Action.PAUSE:
        steps.pause()
        left = format_duration(steps.release.remaining or timedelta(0))
        message = f"paused the bake timer of phase *{phase.name}* with {left} left"
    elif action is Action.UNPAUSE:
        steps.unpause()
        message = f"resumed the bake timer of phase *{phase.name}*"
    elif action is Action.SKIP:
        steps.end_bake(PhaseStatus.SKIPPED)
        message = f"skipped the rest of the bake of phase *{phase.name}*"
    elif action is Action.ABORT:
        steps.abort()
        message = "aborted the release; every environment serves its pre-release value again"
    else:
        steps.full_rollout()
        message = "rolled out every remaining phase at once"
    steps.notes.insert(
        0,
        Notification(
            NoticeKind.ACTION_TAKEN,
            {
                "phase": release.phase,
                "action": action.value,
                "actor": command.actor,
                "reason": command.reason,
                "message": message,
            },
        ),
    )
    return _finish(steps, release, action.value, command.actor, message, reason=command.reason)


def timer_end(release: Release, now: datetime) -> Transition | None:
    """End a due bake timer; None when the release is not baking or not yet due."""
    ends = release.bake_ends_at
    if release.state is not ReleaseState.BAKING or ends is None or ends > now:
        return None
    steps = _Steps(release, now)
    steps.end_bake(PhaseStatus.DONE)
    message = f"the bake of phase *{release.current_phase.name}* ended"
    return _finish(steps, release, TIMER_ACTION, SYSTEM_ACTOR, message)


def remind(release: Release, now: datetime) -> Transition | None:
    """Remind or escalate a waiting approval whose reminder is due; None when nothing is due."""
    due = release.remind_at
    if release.state is not ReleaseState.AWAITING_APPROVAL or due is None or due > now:
        return None
    steps = _Steps(release, now)
    steps.remind()
    return Transition(steps.release, (), tuple(steps.notes))


def refusal(release: Release, command: Command, error: DomainError, now: datetime) -> Event:
    """The history row that records a refused or denied attempt."""
    return Event(
        flag_key=release.flag_key,
        at=now,
        actor=command.actor,
        action=command.action.value,
        outcome=error.outcome,
        message=error.message,
        release_id=command.release_id,
        phase=release.phase if command.phase is None else command.phase,
        from_state=release.describe_state(),
        to_state=release.describe_state(),
        reason=command.reason,
        rule=error.rule_name,
    )


def _finish(
    steps: _Steps,
    before: Release,
    action: str,
    actor: str,
    message: str,
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
        message=message,
        release_id=after.id,
        phase=before.phase,
        from_state=None if triggered else before.describe_state(),
        to_state=after.describe_state(),
        reason=reason,
    )
    return Transition(after, (event,), tuple(notes))
