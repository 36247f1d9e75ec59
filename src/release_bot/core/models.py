"""Domain models: flags, versions, pipelines, phases, releases, history events, notifications."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

SYSTEM_ACTOR = "release-bot"
# who pauses or aborts a release when its checks fail: never subject to people's permissions,
# and never approves
GUARDRAIL_ACTOR = "guardrail"
TOKEN_PREFIX = "token:"  # an API token acts as `token:NAME`


class FlagKind(StrEnum):
    """What a flag carries: a boolean gate or a JSON-object config."""

    GATE = "gate"
    CONFIG = "config"


class Action(StrEnum):
    """What a person can do to a running release."""

    APPROVE = "approve"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    SKIP = "skip"
    ABORT = "abort"
    FULL_ROLLOUT = "full_rollout"

    @property
    def label(self) -> str:
        """The words a person sees for this action."""
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.APPROVE: "Approve",
    Action.PAUSE: "Pause",
    Action.UNPAUSE: "Unpause",
    Action.SKIP: "Skip",
    Action.ABORT: "Abort",
    Action.FULL_ROLLOUT: "Full Roll Out",
}


class Scope(StrEnum):
    """What an API token may do: read, start releases (and create flags), act on releases."""

    READ = "read"
    START = "start"
    ACT = "act"


class ReleaseState(StrEnum):
    """The one state a release is in."""

    AWAITING_APPROVAL = "awaiting_approval"
    BAKING = "baking"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABORTED = "aborted"

    @property
    def terminal(self) -> bool:
        """True for states that never change again."""
        return self in (ReleaseState.COMPLETED, ReleaseState.ABORTED)


class PhaseStatus(StrEnum):
    """Where one phase of a release stands."""

    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting_approval"
    BAKING = "baking"
    PAUSED = "paused"
    DONE = "done"
    SKIPPED = "skipped"
    ROLLED_OUT = "rolled_out"
    REVERTED = "reverted"
    CANCELLED = "cancelled"

    @property
    def live(self) -> bool:
        """True when this phase's scope serves the new version."""
        return self in _LIVE_STATUSES


_LIVE_STATUSES = {
    PhaseStatus.BAKING,
    PhaseStatus.PAUSED,
    PhaseStatus.DONE,
    PhaseStatus.SKIPPED,
    PhaseStatus.ROLLED_OUT,
}


class Outcome(StrEnum):
    """How an attempted action ended, as kept in the history."""

    OK = "ok"
    REFUSED = "refused"
    DENIED = "denied"


@dataclass(frozen=True)
class Version:
    """An immutable numbered value of a flag."""

    number: int
    value: Any
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Flag:
    """A feature gate or dynamic config and the version each environment serves as its base."""

    key: str
    kind: FlagKind
    pipeline: str
    default_version: int
    env_versions: Mapping[str, int] = field(default_factory=dict)

    def base_version(self, environment: str) -> int:
        """The version served in an environment when no release scope matches."""
        return self.env_versions.get(environment, self.default_version)

    def promoted(self, version: int, environments: tuple[str, ...]) -> Flag:
        """This flag with `version` as the base of every given environment."""
        bases = {**self.env_versions, **dict.fromkeys(environments, version)}
        return replace(self, env_versions=bases)


@dataclass(frozen=True)
class ApprovalGate:
    """Who must approve a phase before it starts, and how many distinct people."""

    groups: tuple[str, ...] = ()
    required: int = 1


class OnFail(StrEnum):
    """What a check does to its release once it has failed `failures` times in a row."""

    PAUSE = "pause"
    ABORT = "abort"


class Verdict(StrEnum):
    """What one measurement of a check says."""

    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no_data"


# a check's comparison: the value fails the check when `value OP threshold` holds
COMPARISONS = ("<=", ">=", "==", "<", ">")


@dataclass(frozen=True)
class Check:
    """A Prometheus query a live phase watches, and when its value fails the release."""

    name: str
    query: str
    comparison: str
    threshold: float
    every: timedelta
    after: timedelta = timedelta(0)
    failures: int = 1
    on_fail: OnFail = OnFail.PAUSE

    @property
    def fail_if(self) -> str:
        """The condition as the pipelines file writes it: `> 0.01`."""
        return f"{self.comparison} {self.threshold:g}"


@dataclass(frozen=True)
class CheckState:
    """Where one check of one phase of a release stands: its latest measurement and counts.

    `verdict`, `value` and `measured_at` are None until the first measurement; `value` is None
    for no data, and `detail` then says why (no series, an error, a timeout).
    """

    phase: int
    name: str
    due_at: datetime | None
    verdict: Verdict | None = None
    value: float | None = None
    measured_at: datetime | None = None
    failures: int = 0
    blind: int = 0
    detail: str | None = None


@dataclass(frozen=True)
class Phase:
    """A scope (environments, optional percentage and attribute match), a gate, a bake and
    the checks that watch it while it is live."""

    name: str
    environments: tuple[str, ...]
    percentage: float | None = None
    match: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    approval: ApprovalGate | None = None
    bake: timedelta = timedelta(0)
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Webhook:
    """An endpoint told every history event of a pipeline's releases, and where its secret is."""

    url: str
    secret_env: str


@dataclass(frozen=True)
class Pipeline:
    """A named, ordered list of phases plus who may do what."""

    name: str
    phases: tuple[Phase, ...]
    channel: str | None = None
    allow_self_approval: bool = False
    permissions: Mapping[Action, tuple[str, ...]] = field(default_factory=dict)
    remind_every: timedelta = timedelta(hours=4)
    escalate_after: timedelta = timedelta(hours=24)
    escalate_to: tuple[str, ...] = ()
    webhooks: tuple[Webhook, ...] = ()

    @property
    def environments(self) -> tuple[str, ...]:
        """Every environment any phase names, in first-seen order."""
        return tuple(dict.fromkeys(env for phase in self.phases for env in phase.environments))


@dataclass(frozen=True)
class Approval:
    """One person's approval of one phase."""

    phase: int
    user: str
    at: datetime


@dataclass(frozen=True)
class Release:
    """One run of a pipeline carrying a flag from its current version to a new one."""

    id: int | None
    flag_key: str
    pipeline: Pipeline
    from_version: int
    to_version: int
    triggered_by: str
    created_at: datetime
    state: ReleaseState
    phase: int
    phase_statuses: tuple[PhaseStatus, ...]
    bake_ends_at: datetime | None = None
    remaining: timedelta | None = None
    approvals: tuple[Approval, ...] = ()
    ended_at: datetime | None = None
    awaiting_since: datetime | None = None
    remind_at: datetime | None = None
    escalated: bool = False
    revision: int = 0
    # when the bake's time ran out while a check of the phase held it (None: not held)
    held_since: datetime | None = None
    # the checks of the phases that went live, as last measured (kept apart from `revision`)
    checks: tuple[CheckState, ...] = ()

    @property
    def current_phase(self) -> Phase:
        """The phase the release is at now."""
        return self.pipeline.phases[self.phase]

    @property
    def active(self) -> bool:
        """True until the release completes or is aborted."""
        return not self.state.terminal

    def approvers(self, phase: int) -> tuple[str, ...]:
        """Distinct users who approved the given phase, in order."""
        return tuple(a.user for a in self.approvals if a.phase == phase)

    def live_phases(self) -> tuple[int, ...]:
        """Indexes of phases whose scope serves the new version right now."""
        if not self.active:
            return ()
        return tuple(i for i, status in enumerate(self.phase_statuses) if status.live)

    def check_state(self, phase: int, name: str) -> CheckState | None:
        """The state of one check of one phase, or None before the phase went live."""
        return next((c for c in self.checks if c.phase == phase and c.name == name), None)

    def describe_state(self) -> str:
        """Compact state such as `baking(1)` or `completed`."""
        if self.state.terminal:
            return self.state.value
        return f"{self.state.value}({self.phase})"


@dataclass(frozen=True)
class Event:
    """One row of the append-only history of a flag."""

    flag_key: str
    at: datetime
    actor: str
    action: str
    outcome: Outcome
    message: str
    release_id: int | None = None
    phase: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    rule: str | None = None


class NoticeKind(StrEnum):
    """Notifications a state change asks the outside world to deliver."""

    RELEASE_STARTED = "release_started"
    STATUS_CHANGED = "status_changed"
    APPROVAL_NEEDED = "approval_needed"
    ACTION_TAKEN = "action_taken"
    COMPLETED = "completed"
    ABORTED = "aborted"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    STARTER_TOLD = "starter_told"
    EVENT = "event"  # a history event for a webhook endpoint


@dataclass(frozen=True)
class Notification:
    """A message to deliver once the transaction that caused it commits."""

    kind: NoticeKind
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Token:
    """A named API token, its scopes and its bookkeeping (never its secret)."""

    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def principal(self) -> str:
        """Who the token acts as: `token:NAME`."""
        return TOKEN_PREFIX + self.name


@dataclass(frozen=True)
class StartKey:
    """An Idempotency-Key of a start: whose it is, the key, and a digest of what was asked."""

    owner: str
    key: str
    request: str


@dataclass(frozen=True)
class Command:
    """A person's request to act on a release, issued for a given phase (None: the current one)."""

    release_id: int
    action: Action
    actor: str
    phase: int | None = None
    reason: str | None = None
    # an API token's scopes; None for a person, who is bound by the pipeline's permissions only
    scopes: frozenset[Scope] | None = None


@dataclass(frozen=True)
class Transition:
    """What a decision produced: the new release, history events and notifications."""

    release: Release
    events: tuple[Event, ...]
    notifications: tuple[Notification, ...]
