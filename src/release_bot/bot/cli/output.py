"""Plain-data and plain-text views of flags, releases and history for the CLI."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from release_bot.core.durations import format_duration
from release_bot.core.guardrails import CheckView, live_checks
from release_bot.core.machine import (
    after_bake,
    allowed_actions,
    approvals,
    bake_left,
    effect_sentence,
)
from release_bot.core.models import Event, Flag, PhaseStatus, Release, ReleaseState, Version
from release_bot.core.sweeps import StuckRelease
from release_bot.storage.outbox import SLACK_TARGET, OutboxMessage

_MARKS = {
    PhaseStatus.PENDING: "○",
    PhaseStatus.AWAITING_APPROVAL: "⏸",
    PhaseStatus.BAKING: "●",
    PhaseStatus.PAUSED: "‖",
    PhaseStatus.DONE: "✓",
    PhaseStatus.SKIPPED: "»",
    PhaseStatus.ROLLED_OUT: "✓",
    PhaseStatus.REVERTED: "↩",
    PhaseStatus.CANCELLED: "✗",
}


def compact(value: Any) -> str:
    """A value as one line of JSON."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def release_data(release: Release, versions: Mapping[int, Version]) -> dict[str, Any]:
    """A release as JSON-ready data (what `release show --json` prints)."""
    r = release
    phases = []
    for index, (phase, status) in enumerate(zip(r.pipeline.phases, r.phase_statuses, strict=True)):
        gate = phase.approval
        phases.append(
            {
                "index": index,
                "name": phase.name,
                "status": status.value,
                "environments": list(phase.environments),
                "percentage": phase.percentage,
                "match": {k: list(v) for k, v in phase.match.items()},
                "bake_seconds": phase.bake.total_seconds(),
                "approval": None
                if gate is None
                else {
                    "groups": list(gate.groups),
                    "required": approvals(r, index).required,
                    "approved_by": list(approvals(r, index).approvers),
                },
                "checks": [_check_data(view) for view in live_checks(r) if view.phase == index],
            }
        )
    return {
        "id": r.id,
        "flag": r.flag_key,
        "pipeline": r.pipeline.name,
        "state": r.state.value,
        "phase": r.phase,
        "phase_name": r.current_phase.name,
        "phases": phases,
        "approvals": [{"phase": a.phase, "user": a.user, "at": _iso(a.at)} for a in r.approvals],
        "bake_ends_at": _iso(r.bake_ends_at),
        "held_since": _iso(r.held_since),
        "remaining": r.remaining.total_seconds() if r.remaining is not None else None,
        "actions": [a.value for a in allowed_actions(r.state)],
        "from_version": r.from_version,
        "to_version": r.to_version,
        "from_value": versions[r.from_version].value if r.from_version in versions else None,
        "to_value": versions[r.to_version].value if r.to_version in versions else None,
        "triggered_by": r.triggered_by,
        "created_at": _iso(r.created_at),
        "ended_at": _iso(r.ended_at),
    }


def _check_data(view: CheckView) -> dict[str, Any]:
    """A check of a live phase as JSON-ready data: its definition and latest measurement."""
    check, state = view.check, view.state
    return {
        "name": check.name,
        "query": check.query,
        "fail_if": check.fail_if,
        "verdict": None if state.verdict is None else state.verdict.value,
        "value": state.value,
        "measured_at": _iso(state.measured_at),
        "detail": state.detail,
        "failures_in_a_row": state.failures,
        "no_data_in_a_row": state.blind,
    }


def _check_lines(release: Release, index: int) -> list[str]:
    """A live phase's checks, one line each, with when each was last measured."""
    return [
        f"      {view.sentence.plain}"
        + (f" at {view.state.measured_at:%H:%M:%S} UTC" if view.state.measured_at else "")
        for view in live_checks(release) if view.phase == index
    ]


def _phase_line(release: Release, index: int, now: datetime) -> str:
    phase, status = release.pipeline.phases[index], release.phase_statuses[index]
    scope = ", ".join(phase.environments)
    if phase.percentage is not None:
        scope += f" {phase.percentage:g}%"
    if phase.match:
        scope += " where " + ", ".join(f"{k} in {list(v)}" for k, v in phase.match.items())
    detail = status.value.replace("_", " ")
    left, then = bake_left(release, now), after_bake(release)
    if status in (PhaseStatus.BAKING, PhaseStatus.PAUSED) and left is not None and then:
        detail += f", {format_duration(left)} left, then {effect_sentence(release, then).plain}"
    if status is PhaseStatus.BAKING and release.held_since is not None and then:
        detail += f", bake time over, then {effect_sentence(release, then).plain}"
    if index == release.phase and then is not None and then.held_by is not None:
        detail += f" — held until it passes: {then.held_by.plain}"
    if phase.approval and status in (PhaseStatus.PENDING, PhaseStatus.AWAITING_APPROVAL):
        who = " or ".join(phase.approval.groups) or "any approver"
        count = approvals(release, index)
        detail += f" — {count.got} of {count.required} approvals from {who}"
    return f"  {_MARKS[status]} {index + 1}. {phase.name} [{scope}]: {detail}"


def release_text(release: Release, versions: Mapping[int, Version], now: datetime) -> str:
    """A release as a few readable lines."""
    r = release
    old = versions.get(r.from_version)
    new = versions.get(r.to_version)
    lines = [
        f"Release #{r.id} of {r.flag_key} — {r.describe_state()} (pipeline {r.pipeline.name})",
        f"  v{r.from_version} → v{r.to_version}: {compact(old.value if old else None)} → "
        f"{compact(new.value if new else None)}; started by {r.triggered_by} "
        f"at {r.created_at:%Y-%m-%d %H:%M} UTC",
    ]
    for index in range(len(r.pipeline.phases)):
        lines += [_phase_line(r, index, now), *_check_lines(r, index)]
    actions = allowed_actions(r.state)
    if actions:
        lines.append("  Actions now: " + ", ".join(a.label for a in actions))
    elif r.state is ReleaseState.COMPLETED:
        lines.append(f"  Completed at {r.ended_at:%Y-%m-%d %H:%M} UTC")
    else:
        lines.append(f"  Aborted at {r.ended_at:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines)


def release_summary(release: Release) -> dict[str, Any]:
    """A release in a list, as JSON-ready data."""
    return {"id": release.id, "flag": release.flag_key, "state": release.state.value,
            "phase": release.phase, "phase_name": release.current_phase.name}


def release_row(release: Release) -> str:
    """One line per release for `release list`."""
    r = release
    return (
        f"#{r.id}\t{r.flag_key}\t{r.describe_state()}\t{r.current_phase.name}\t"
        f"v{r.from_version}→v{r.to_version}\t{r.triggered_by}"
    )


def stuck_data(stuck: StuckRelease) -> dict[str, Any]:
    """A release the sweep keeps failing on, as JSON-ready data."""
    failure = stuck.failure
    return {
        "id": failure.release_id,
        "flag": stuck.flag_key,
        "state": stuck.state,
        "failures": failure.failures,
        "error": failure.error,
        "retry_at": _iso(failure.retry_at),
    }


def stuck_row(stuck: StuckRelease) -> str:
    """One line per stuck release for `release list --stuck`."""
    failure = stuck.failure
    return (
        f"#{failure.release_id}\t{stuck.flag_key}\t{stuck.state}\t"
        f"failed {failure.failures} time(s)\tnext try {failure.retry_at:%Y-%m-%d %H:%M:%S} UTC"
        f"\t{failure.error}"
    )


def flag_data(
    flag: Flag, versions: Mapping[int, Version], active: Release | None
) -> dict[str, Any]:
    """A flag as JSON-ready data."""
    return {
        "key": flag.key,
        "kind": flag.kind.value,
        "pipeline": flag.pipeline,
        "default_version": flag.default_version,
        "value": versions[flag.default_version].value,
        "environments": {
            env: {"version": n, "value": versions[n].value}
            for env, n in sorted(flag.env_versions.items())
        },
        "versions": len(versions),
        "active_release": active.id if active else None,
    }


def event_data(event: Event) -> dict[str, Any]:
    """A history event as JSON-ready data."""
    return {
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "outcome": event.outcome.value,
        "release": event.release_id,
        "phase": event.phase,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "rule": event.rule,
        "message": event.message,
    }


def history_text(events: Sequence[Event]) -> str:
    """A flag's history, one event a line, oldest first."""
    lines = []
    for e in events:
        where = f" #{e.release_id}" if e.release_id else ""
        if e.from_state == e.to_state:
            move = ""
        elif e.from_state is None:
            move = f" → {e.to_state}"
        else:
            move = f" {e.from_state} → {e.to_state}"
        why = f" (reason: {e.reason})" if e.reason else ""
        lines.append(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<12} {e.action:<12} {e.outcome.value:<7}"
            f"{where}{move}  {e.message}{why}"
        )
    return "\n".join(lines)


def outbox_what(message: OutboxMessage) -> str:
    """What a row is: a Slack notification's kind, or an event for a webhook's URL."""
    if message.target == SLACK_TARGET:
        return message.kind.value
    return f"{message.kind.value} to {message.target}"


def outbox_data(message: OutboxMessage) -> dict[str, Any]:
    """An outbox row as JSON-ready data."""
    return {
        "id": message.id,
        "release": message.release_id,
        "target": message.target,
        "channel": message.channel,
        "kind": message.kind.value,
        "status": message.status.value,
        "attempts": message.attempts,
        "created_at": _iso(message.created_at),
        "last_error": message.last_error,
    }
