"""Alertmanager's webhook body (version 4), read once into the alerts that name a flag.

Only what release-bot acts on is required: `version` "4" and `alerts`, each with `status`,
`labels` and `annotations` of text. Alertmanager's other fields are accepted and ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from release_bot.core.models import Action
from release_bot.core.quoting import shown

FLAG_LABEL = "release_bot_flag"
ACTION_LABEL = "release_bot_action"
# the annotation Alertmanager's own templates and most rule files use for one line of why
SUMMARY = "summary"


class Malformed(ValueError):
    """A body that is not Alertmanager's webhook; the message is one sentence saying why."""


@dataclass(frozen=True)
class FiringAlert:
    """A firing alert that names a flag: what to do to its release and why."""

    name: str
    flag_key: str
    action: Action
    summary: str
    # the label's value when it was neither pause nor abort (the alert pauses then)
    unknown_action: str | None = None


class _Alert(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    version: Literal["4"]
    alerts: list[_Alert]


def firing_alerts(raw: bytes) -> list[FiringAlert]:
    """The firing alerts of a webhook body that carry a `release_bot_flag` label, in order."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Malformed(f"The body is not JSON ({shown(str(error), 80)}): Alertmanager sends its "
                        "webhook as a JSON object.") from None
    except RecursionError:
        raise Malformed("The body is nested too deeply to be Alertmanager's webhook.") from None
    try:
        body = _Body.model_validate(data)
    except ValidationError as error:
        raise Malformed(_first_problem(error)) from None
    return [_firing(alert) for alert in body.alerts
            if alert.status == "firing" and alert.labels.get(FLAG_LABEL, "").strip()]


def _firing(alert: _Alert) -> FiringAlert:
    """What one firing alert asks for; an action label other than pause or abort pauses."""
    said = alert.labels.get(ACTION_LABEL, "pause")
    wanted = said.strip().lower()
    action = Action.ABORT if wanted == "abort" else Action.PAUSE
    return FiringAlert(
        name=alert.labels.get("alertname", "").strip() or "(unnamed alert)",
        flag_key=alert.labels[FLAG_LABEL].strip(),
        action=action,
        summary=alert.annotations.get(SUMMARY, "").strip(),
        unknown_action=None if wanted in ("pause", "abort") else said,
    )


def _first_problem(error: ValidationError) -> str:
    """One sentence naming the first field that is wrong and what it should be."""
    problem = error.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem["loc"])
    # pydantic names the model class where a JSON object was expected
    said = "Input should be a JSON object" if problem["type"] == "model_type" else problem["msg"]
    return (f"The body is not Alertmanager's webhook version 4: {where.lstrip('.') or 'body'} "
            f"— {shown(said, 120)}.")
