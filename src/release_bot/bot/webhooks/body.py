"""What a webhook endpoint receives for one history event: its type, and the JSON it is sent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from release_bot.core.models import Event, Outcome
from release_bot.storage.mapping import event_from_json

# what an accepted action did, named from the receiver's side
_DONE = {
    "trigger": "started",
    "approve": "approved",
    "pause": "paused",
    "unpause": "unpaused",
    "skip": "skipped",
    "abort": "aborted",
    "full_rollout": "rolled_out",
    "check": "check_changed",  # a measurement changed a guardrail check's verdict
}
# where the end of a bake led, by the state it led to
_TIMER = {"baking": "phase_live", "awaiting_approval": "awaiting_approval",
          "completed": "completed"}


def event_type(event: Event) -> str:
    """The event's type, such as `release.approved` or `release.pause.refused`."""
    if event.outcome is not Outcome.OK:
        return f"release.{event.action}.{event.outcome.value}"
    if event.action == "timer":
        state = (event.to_state or "").split("(")[0]
        return f"release.{_TIMER.get(state, 'bake_ended')}"
    return f"release.{_DONE.get(event.action, event.action)}"


def event_body(payload: Mapping[str, Any]) -> str:
    """The JSON text sent for an outbox row's event: the same text at every attempt."""
    event = event_from_json(payload["event"])
    document = {
        "type": event_type(event),
        "timestamp": payload["event"]["at"],
        "data": {
            "release": event.release_id,
            "flag": event.flag_key,
            "actor": event.actor,
            "action": event.action,
            "outcome": event.outcome.value,
            "phase": event.phase,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "reason": event.reason,
            "rule": event.rule,
            "message": event.message,
        },
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
