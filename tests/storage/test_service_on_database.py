"""The release service end to end on the real database: what units are served at each step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_bot.core.errors import RuleBroken
from release_bot.core.evaluation import BUCKETS, bucket
from release_bot.core.models import (
    Action,
    Command,
    FlagKind,
    NoticeKind,
    Outcome,
    Release,
    ReleaseState,
)
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.samples import APPROVER_IDS, ENGINEER, MANAGER, NOW, TRIGGERER

CANARY_SHARE = BUCKETS // 10


def units(key: str) -> tuple[str, str]:
    """A unit inside the 10% canary and one outside it."""
    inside = next(f"user-{n}" for n in range(10_000) if bucket(key, f"user-{n}") < CANARY_SHARE)
    outside = next(f"user-{n}" for n in range(10_000)
                   if bucket(key, f"user-{n}") >= CANARY_SHARE)
    return inside, outside


def served(service: ReleaseService, key: str) -> dict[str, object]:
    """What staging and production serve to a canary unit and to a unit outside the canary."""
    inside, outside = units(key)
    return {
        f"{env}/{who}": service.evaluate(key, env, unit, {})
        for env in ("staging", "production")
        for who, unit in (("canary", inside), ("rest", outside))
    }


def everywhere(value: object) -> dict[str, object]:
    """The same value for every environment and unit."""
    return {f"{env}/{who}": value for env in ("staging", "production")
            for who in ("canary", "rest")}


def act(service: ReleaseService, release: Release, action: Action, actor: str,
        minutes: int, reason: str | None = None) -> Release:
    """Take an action on the release's current phase, `minutes` after NOW."""
    command = Command(release.id or 0, action, actor, phase=release.phase, reason=reason)
    return service.act(command, NOW + timedelta(minutes=minutes))


def test_a_release_from_start_to_full_rollout(database: Database, service: ReleaseService) -> None:
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    assert served(service, "new_checkout") == everywhere(False)

    release = service.start_release("new_checkout", True, TRIGGERER, NOW)
    assert release.describe_state() == "baking(0)"
    staging_only = {"staging/canary": True, "staging/rest": True,
                    "production/canary": False, "production/rest": False}
    assert served(service, "new_checkout") == staging_only

    release = act(service, release, Action.PAUSE, ENGINEER, minutes=10)
    assert (release.describe_state(), release.remaining) == ("paused(0)", timedelta(minutes=20))
    assert served(service, "new_checkout") == staging_only

    release = act(service, release, Action.UNPAUSE, ENGINEER, minutes=60)
    assert release.describe_state() == "baking(0)"
    assert release.bake_ends_at == NOW + timedelta(minutes=80)
    assert service.advance_due(NOW + timedelta(minutes=79)) == []

    release = act(service, release, Action.SKIP, MANAGER, minutes=65)
    assert release.describe_state() == "awaiting_approval(1)"
    assert served(service, "new_checkout") == staging_only

    with pytest.raises(RuleBroken, match="only @approvers may"):
        act(service, release, Action.APPROVE, TRIGGERER, minutes=66)
    release = act(service, release, Action.APPROVE, APPROVER_IDS[0], minutes=70)
    assert release.describe_state() == "baking(1)"
    assert served(service, "new_checkout") == {**staging_only, "production/canary": True}

    release = act(service, release, Action.FULL_ROLLOUT, MANAGER, minutes=90)
    assert release.state is ReleaseState.COMPLETED
    assert served(service, "new_checkout") == everywhere(True)
    flag, versions, active = service.flag("new_checkout")
    assert (flag.env_versions, sorted(versions), active) == (
        {"staging": 2, "production": 2}, [1, 2], None
    )

    history = service.history("new_checkout")
    assert [(e.action, e.outcome) for e in history] == [
        ("create", Outcome.OK), ("trigger", Outcome.OK), ("pause", Outcome.OK),
        ("unpause", Outcome.OK), ("skip", Outcome.OK), ("approve", Outcome.DENIED),
        ("approve", Outcome.OK), ("full_rollout", Outcome.OK),
    ]
    assert history[-1].to_state == "completed"
    with database.uow() as uow:
        kinds = [m.kind for m in uow.outbox.list()]
    assert kinds[0] is NoticeKind.RELEASE_STARTED
    assert kinds[-2:] == [NoticeKind.COMPLETED, NoticeKind.STARTER_TOLD]


def test_the_bake_timer_in_the_database_moves_the_release_on(service: ReleaseService) -> None:
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    release = service.start_release("new_checkout", True, TRIGGERER, NOW)
    assert service.advance_due(NOW + timedelta(minutes=29)) == []
    [moved] = service.advance_due(NOW + timedelta(minutes=30))
    assert (moved.id, moved.describe_state()) == (release.id, "awaiting_approval(1)")
    assert service.advance_due(NOW + timedelta(hours=5)) == []
    assert service.history("new_checkout")[-1].actor == "release-bot"


def test_an_aborted_release_serves_the_old_value_again(service: ReleaseService) -> None:
    old, new = {"limit": 1}, {"limit": 2}
    service.create_flag("checkout_limits", FlagKind.CONFIG, "standard", old, TRIGGERER, NOW)
    release = service.start_release("checkout_limits", new, TRIGGERER, NOW)
    release = act(service, release, Action.SKIP, MANAGER, minutes=5)
    release = act(service, release, Action.APPROVE, APPROVER_IDS[1], minutes=6)
    assert served(service, "checkout_limits") == {
        "staging/canary": new, "staging/rest": new, "production/canary": new,
        "production/rest": old,
    }

    with pytest.raises(RuleBroken, match="You can't Abort"):
        act(service, release, Action.ABORT, APPROVER_IDS[1], minutes=7, reason="errors up")
    with pytest.raises(RuleBroken, match="Abort needs a reason"):
        act(service, release, Action.ABORT, ENGINEER, minutes=7)
    release = act(service, release, Action.ABORT, ENGINEER, minutes=8, reason="errors up")
    assert release.state is ReleaseState.ABORTED
    assert served(service, "checkout_limits") == everywhere(old)
    flag, _, active = service.flag("checkout_limits")
    assert (flag.env_versions, flag.default_version, active) == ({}, 1, None)

    with pytest.raises(RuleBroken, match="aborted, which cannot be undone"):
        act(service, release, Action.FULL_ROLLOUT, MANAGER, minutes=9)
    again = service.start_release("checkout_limits", {"limit": 3}, TRIGGERER, NOW)
    assert again.describe_state() == "baking(0)"
    history = service.history("checkout_limits")
    abort_attempts = [(e.outcome, e.rule, e.reason) for e in history if e.action == "abort"]
    assert abort_attempts == [
        (Outcome.DENIED, "ActorIsPermitted", "errors up"),
        (Outcome.REFUSED, "AbortHasReason", None),
        (Outcome.OK, None, "errors up"),
    ]
