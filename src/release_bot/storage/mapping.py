"""Pure conversions between core models and table rows (JSON documents, seconds, UTC)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from release_bot.core.models import (
    Action,
    Approval,
    ApprovalGate,
    Check,
    CheckState,
    Event,
    Flag,
    FlagKind,
    NoticeKind,
    Notification,
    OnFail,
    Outcome,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
    Verdict,
    Version,
    Webhook,
)
from release_bot.storage.outbox import SLACK_TARGET, OutboxMessage, OutboxStatus
from release_bot.storage.timestamps import as_utc

if TYPE_CHECKING:
    # a row is a Core Row of the read path or an ORM object of the write path, never loaded here
    from sqlalchemy import Row

    from release_bot.storage.tables import (
        CheckStateRow,
        EventRow,
        FlagRow,
        FlagVersionRow,
        OutboxRow,
        ReleaseRow,
    )


def to_seconds(delta: timedelta) -> float:
    """A duration as seconds."""
    return delta.total_seconds()


def from_seconds(seconds: float) -> timedelta:
    """Seconds as a duration."""
    return timedelta(seconds=seconds)


def gate_to_json(gate: ApprovalGate | None) -> dict[str, Any] | None:
    """An approval gate as a JSON object (None: no gate)."""
    if gate is None:
        return None
    return {"groups": list(gate.groups), "required": gate.required}


def gate_from_json(data: dict[str, Any] | None) -> ApprovalGate | None:
    """An approval gate from its JSON object."""
    if data is None:
        return None
    return ApprovalGate(groups=tuple(data["groups"]), required=data["required"])


def check_to_json(check: Check) -> dict[str, Any]:
    """A check's definition as a JSON object."""
    return {
        "name": check.name,
        "query": check.query,
        "comparison": check.comparison,
        "threshold": check.threshold,
        "every_seconds": to_seconds(check.every),
        "after_seconds": to_seconds(check.after),
        "failures": check.failures,
        "on_fail": check.on_fail.value,
    }


def check_from_json(data: dict[str, Any]) -> Check:
    """A check's definition from its JSON object."""
    return Check(
        name=data["name"],
        query=data["query"],
        comparison=data["comparison"],
        threshold=data["threshold"],
        every=from_seconds(data["every_seconds"]),
        after=from_seconds(data["after_seconds"]),
        failures=data["failures"],
        on_fail=OnFail(data["on_fail"]),
    )


def has_checks(pipeline: Any) -> bool:
    """True when a phase of a pipeline snapshot has checks (a snapshot that cannot be read has
    none here: reading it as a pipeline says what is wrong)."""
    phases = pipeline.get("phases") if isinstance(pipeline, dict) else None
    return isinstance(phases, list) and any(
        isinstance(phase, dict) and phase.get("checks") for phase in phases)


def check_state_values(release_id: int, state: CheckState) -> dict[str, Any]:
    """The check_states-row columns of a check's state (its query is written once, at start)."""
    return {
        "release_id": release_id,
        "phase": state.phase,
        "name": state.name,
        "due_at": state.due_at,
        "verdict": None if state.verdict is None else state.verdict.value,
        "value": state.value,
        "measured_at": state.measured_at,
        "failures": state.failures,
        "blind": state.blind,
        "detail": state.detail,
    }


def check_state_from_row(row: CheckStateRow | Row[Any]) -> CheckState:
    """A check's state from its row."""
    return CheckState(
        phase=row.phase,
        name=row.name,
        due_at=row.due_at,
        verdict=None if row.verdict is None else Verdict(row.verdict),
        value=row.value,
        measured_at=row.measured_at,
        failures=row.failures,
        blind=row.blind,
        detail=row.detail,
    )


def phase_to_json(phase: Phase) -> dict[str, Any]:
    """A phase as a JSON object."""
    return {
        "name": phase.name,
        "environments": list(phase.environments),
        "percentage": phase.percentage,
        "match": {key: list(values) for key, values in phase.match.items()},
        "approval": gate_to_json(phase.approval),
        "bake_seconds": to_seconds(phase.bake),
        "checks": [check_to_json(check) for check in phase.checks],
    }


def phase_from_json(data: dict[str, Any]) -> Phase:
    """A phase from its JSON object."""
    return Phase(
        name=data["name"],
        environments=tuple(data["environments"]),
        percentage=data["percentage"],
        match={key: tuple(values) for key, values in data["match"].items()},
        approval=gate_from_json(data["approval"]),
        bake=from_seconds(data["bake_seconds"]),
        # snapshots taken before checks existed have none
        checks=tuple(check_from_json(check) for check in data.get("checks", ())),
    )


def pipeline_to_json(pipeline: Pipeline) -> dict[str, Any]:
    """A full pipeline snapshot as a JSON object."""
    return {
        "name": pipeline.name,
        "phases": [phase_to_json(phase) for phase in pipeline.phases],
        "channel": pipeline.channel,
        "allow_self_approval": pipeline.allow_self_approval,
        "permissions": {action.value: list(who) for action, who in pipeline.permissions.items()},
        "remind_every_seconds": to_seconds(pipeline.remind_every),
        "escalate_after_seconds": to_seconds(pipeline.escalate_after),
        "escalate_to": list(pipeline.escalate_to),
        "webhooks": [{"url": w.url, "secret_env": w.secret_env} for w in pipeline.webhooks],
    }


def pipeline_from_json(data: dict[str, Any]) -> Pipeline:
    """A pipeline from its JSON snapshot."""
    return Pipeline(
        name=data["name"],
        phases=tuple(phase_from_json(phase) for phase in data["phases"]),
        channel=data["channel"],
        allow_self_approval=data["allow_self_approval"],
        permissions={Action(action): tuple(who) for action, who in data["permissions"].items()},
        remind_every=from_seconds(data["remind_every_seconds"]),
        escalate_after=from_seconds(data["escalate_after_seconds"]),
        escalate_to=tuple(data["escalate_to"]),
        # snapshots taken before webhooks existed have none
        webhooks=tuple(Webhook(w["url"], w["secret_env"]) for w in data.get("webhooks", ())),
    )


def approvals_to_json(approvals: Sequence[Approval]) -> list[dict[str, Any]]:
    """Approvals as a JSON list of {phase, user, at} with `at` in ISO 8601 UTC."""
    return [
        {"phase": a.phase, "user": a.user, "at": as_utc(a.at).isoformat()} for a in approvals
    ]


def approvals_from_json(data: list[dict[str, Any]]) -> tuple[Approval, ...]:
    """Approvals from their JSON list."""
    return tuple(
        Approval(phase=a["phase"], user=a["user"], at=datetime.fromisoformat(a["at"]))
        for a in data
    )


def flag_values(flag: Flag) -> dict[str, Any]:
    """The flags-row columns of a flag."""
    return {
        "key": flag.key,
        "kind": flag.kind.value,
        "pipeline": flag.pipeline,
        "salt": flag.key,  # legacy column: buckets hash the flag key since flagd bucketing
        "default_version": flag.default_version,
        "env_versions": dict(flag.env_versions),
    }


def flag_from_row(row: FlagRow | Row[Any]) -> Flag:
    """A flag from its row."""
    return Flag(
        key=row.key,
        kind=FlagKind(row.kind),
        pipeline=row.pipeline,
        default_version=row.default_version,
        env_versions=dict(row.env_versions),
    )


def version_values(flag_key: str, version: Version) -> dict[str, Any]:
    """The flag_versions-row columns of a version."""
    return {
        "flag_key": flag_key,
        "number": version.number,
        "value": version.value,
        "created_at": version.created_at,
        "created_by": version.created_by,
    }


def version_from_row(row: FlagVersionRow | Row[Any]) -> Version:
    """A version from its row."""
    return Version(
        number=row.number, value=row.value, created_at=row.created_at, created_by=row.created_by
    )


def release_values(release: Release) -> dict[str, Any]:
    """The releases-row columns of a release, except the database-managed id and revision."""
    return {
        "flag_key": release.flag_key,
        "active_flag_key": release.flag_key if release.active else None,
        "pipeline_name": release.pipeline.name,
        "pipeline": pipeline_to_json(release.pipeline),
        "from_version": release.from_version,
        "to_version": release.to_version,
        "triggered_by": release.triggered_by,
        "created_at": release.created_at,
        "state": release.state.value,
        "phase": release.phase,
        "phase_statuses": [status.value for status in release.phase_statuses],
        "bake_ends_at": release.bake_ends_at,
        "remaining_seconds": None if release.remaining is None else to_seconds(release.remaining),
        "approvals": approvals_to_json(release.approvals),
        "ended_at": release.ended_at,
        "awaiting_since": release.awaiting_since,
        "remind_at": release.remind_at,
        "escalated": release.escalated,
        "held_since": release.held_since,
    }


def release_from_row(row: ReleaseRow | Row[Any], checks: Sequence[CheckState] = ()) -> Release:
    """A release from its row, with the row's id and revision, and its checks' states."""
    return Release(
        id=row.id,
        flag_key=row.flag_key,
        pipeline=pipeline_from_json(row.pipeline),
        from_version=row.from_version,
        to_version=row.to_version,
        triggered_by=row.triggered_by,
        created_at=row.created_at,
        state=ReleaseState(row.state),
        phase=row.phase,
        phase_statuses=tuple(PhaseStatus(status) for status in row.phase_statuses),
        bake_ends_at=row.bake_ends_at,
        remaining=None if row.remaining_seconds is None else from_seconds(row.remaining_seconds),
        approvals=approvals_from_json(row.approvals),
        ended_at=row.ended_at,
        awaiting_since=row.awaiting_since,
        remind_at=row.remind_at,
        escalated=row.escalated,
        revision=row.revision,
        held_since=row.held_since,
        checks=tuple(checks),
    )


def event_values(event: Event) -> dict[str, Any]:
    """The events-row columns of a history event."""
    return {
        "flag_key": event.flag_key,
        "release_id": event.release_id,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "outcome": event.outcome.value,
        "message": event.message,
        "phase": event.phase,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "rule": event.rule,
    }


def event_from_row(row: EventRow | Row[Any]) -> Event:
    """A history event from its row."""
    return Event(
        flag_key=row.flag_key,
        at=row.at,
        actor=row.actor,
        action=row.action,
        outcome=Outcome(row.outcome),
        message=row.message,
        release_id=row.release_id,
        phase=row.phase,
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        rule=row.rule,
    )


def event_to_json(event: Event) -> dict[str, Any]:
    """A history event as a JSON object, `at` in ISO 8601 UTC."""
    return {**event_values(event), "at": as_utc(event.at).isoformat()}


def event_from_json(data: Mapping[str, Any]) -> Event:
    """A history event from its JSON object."""
    return Event(**{**data, "at": datetime.fromisoformat(data["at"]),
                    "outcome": Outcome(data["outcome"])})


def webhook_values(release_id: int, webhook: Webhook, event: Event, message_id: str,
                   now: datetime) -> dict[str, Any]:
    """The outbox-row columns of a history event queued at now for a webhook endpoint; its
    message id is the `webhook-id` of every attempt, so that receivers can drop repeats."""
    notification = Notification(NoticeKind.EVENT, {
        "webhook_id": message_id, "secret_env": webhook.secret_env, "event": event_to_json(event)
    })
    return {**outbox_values(release_id, None, notification, now), "target": webhook.url}


def outbox_values(release_id: int, channel: str | None, notification: Notification,
                  now: datetime) -> dict[str, Any]:
    """The outbox-row columns of a notification queued at now."""
    return {
        "release_id": release_id,
        "target": SLACK_TARGET,
        "channel": channel,
        "kind": notification.kind.value,
        "payload": dict(notification.data),
        "created_at": now,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
    }


def outbox_message(row: OutboxRow | Row[Any]) -> OutboxMessage:
    """An outbox row as a read-only message."""
    return OutboxMessage(
        id=row.id,
        release_id=row.release_id,
        target=row.target,
        channel=row.channel,
        kind=NoticeKind(row.kind),
        payload=row.payload,
        attempts=row.attempts,
        status=OutboxStatus(row.status),
        created_at=row.created_at,
        last_error=row.last_error,
    )
