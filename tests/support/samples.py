"""Sample pipeline, membership, flags and releases shared by the storage tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone

from release_bot.core.models import (
    Action,
    Approval,
    ApprovalGate,
    Flag,
    FlagKind,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
    Version,
)
from release_bot.storage import Database

NOW = datetime(2030, 1, 6, 9, 0, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))
TRIGGERER = "U0TRIGGER"
ENGINEER = "U0ENGINEER"
MANAGER = "U0MANAGER"
APPROVERS = "@approvers"
ENGINEERS = "@engineering"
MANAGERS = "@release-managers"
APPROVER_IDS = tuple(f"U0APPROVER{i:02d}" for i in range(20))


def standard_pipeline() -> Pipeline:
    """Staging (30m bake) → Production canary (10%, 1 approval, 2h) → Production (2 approvals)."""
    return Pipeline(
        name="standard",
        channel="C0RELEASES",
        phases=(
            Phase(name="Staging", environments=("staging",), bake=timedelta(minutes=30)),
            Phase(
                name="Production canary",
                environments=("production",),
                percentage=10,
                approval=ApprovalGate(groups=(APPROVERS,), required=1),
                bake=timedelta(hours=2),
            ),
            Phase(
                name="Production",
                environments=("production",),
                approval=ApprovalGate(groups=(APPROVERS,), required=2),
            ),
        ),
        permissions={
            Action.PAUSE: (ENGINEERS,),
            Action.UNPAUSE: (ENGINEERS,),
            Action.ABORT: (ENGINEERS, MANAGER),
            Action.SKIP: (MANAGERS,),
            Action.FULL_ROLLOUT: (MANAGERS,),
        },
        remind_every=timedelta(hours=4),
        escalate_after=timedelta(hours=24),
        escalate_to=(MANAGERS,),
    )


class StaticMembership:
    """Fixed group → users membership."""

    def __init__(self, groups: Mapping[str, Iterable[str]]) -> None:
        self.groups = {group: set(users) for group, users in groups.items()}

    def is_member(self, user_id: str, group: str) -> bool:
        """True if the user is listed in the group."""
        return user_id in self.groups.get(group, set())


def team() -> StaticMembership:
    """Twenty approvers, one engineer, one release manager."""
    return StaticMembership(
        {APPROVERS: APPROVER_IDS, ENGINEERS: {ENGINEER}, MANAGERS: {MANAGER}}
    )


def sample_flag(key: str = "new_checkout") -> Flag:
    """A gate whose production base was promoted to version 1 explicitly."""
    return Flag(
        key=key, kind=FlagKind.GATE, pipeline="standard",
        default_version=1, env_versions={"production": 1},
    )


def store_flag(database: Database, flag: Flag) -> None:
    """Commit a flag with versions 1 (false) and 2 (true)."""
    with database.uow() as uow:
        uow.flags.add(flag)
        uow.flags.add_version(flag.key, Version(1, False, NOW, TRIGGERER))
        uow.flags.add_version(flag.key, Version(2, True, NOW, TRIGGERER))
        uow.commit()


def paused_release(flag_key: str = "new_checkout") -> Release:
    """A release paused in phase 1 with an approval, a remaining bake and non-UTC datetimes."""
    pipeline = standard_pipeline()
    return Release(
        id=None,
        flag_key=flag_key,
        pipeline=Pipeline(
            name=pipeline.name,
            channel=pipeline.channel,
            phases=(
                Phase(
                    name="Staging EU", environments=("staging", "staging-eu"), percentage=12.5,
                    match={"country": ("DE", "FR"), "plan": ("pro",)},
                    bake=timedelta(minutes=30, microseconds=250),
                ),
                *pipeline.phases[1:],
            ),
            allow_self_approval=True,
            permissions=pipeline.permissions,
            remind_every=timedelta(hours=1, minutes=30),
            escalate_after=timedelta(days=1),
            escalate_to=pipeline.escalate_to,
        ),
        from_version=1,
        to_version=2,
        triggered_by=TRIGGERER,
        created_at=NOW.astimezone(TOKYO),
        state=ReleaseState.PAUSED,
        phase=1,
        phase_statuses=(PhaseStatus.SKIPPED, PhaseStatus.PAUSED, PhaseStatus.PENDING),
        remaining=timedelta(minutes=47, seconds=12, microseconds=345),
        approvals=(Approval(1, APPROVER_IDS[0], (NOW + timedelta(hours=1)).astimezone(TOKYO)),),
    )


def baking_release(flag_key: str, ends_at: datetime) -> Release:
    """A release baking phase 0 until ends_at."""
    return Release(
        id=None, flag_key=flag_key, pipeline=standard_pipeline(), from_version=1, to_version=2,
        triggered_by=TRIGGERER, created_at=NOW, state=ReleaseState.BAKING, phase=0,
        phase_statuses=(PhaseStatus.BAKING, PhaseStatus.PENDING, PhaseStatus.PENDING),
        bake_ends_at=ends_at,
    )
