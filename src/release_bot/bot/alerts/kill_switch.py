"""What firing alerts do: pause or abort their flag's active release, each told in a line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from release_bot.bot.alerts.payload import ACTION_LABEL, FiringAlert
from release_bot.core.models import Action
from release_bot.core.quoting import shown

# (flag key, pause or abort, reason, now) → what happened, in one sentence
Stop = Callable[[str, Action, str, datetime], str]
REASON_LIMIT = 2000


@dataclass(frozen=True)
class Result:
    """What one alert did."""

    alert: str
    flag: str
    action: Action
    outcome: str

    def json(self) -> dict[str, str]:
        """The result as Alertmanager's logs (and people reading them) see it."""
        return {"alert": self.alert, "flag": self.flag, "action": self.action.value,
                "outcome": self.outcome}


def reason(alert: FiringAlert) -> str:
    """The reason kept in the history: the alert's name and its summary annotation."""
    text = f"Alertmanager alert {alert.name} is firing"
    if alert.summary:
        text += f": {alert.summary}"
    if alert.unknown_action is not None:
        text += (f" ({ACTION_LABEL} {shown(alert.unknown_action, 40)!r} is neither pause nor "
                 "abort, so the release is paused)")
    return shown(text, REASON_LIMIT)


def act(alerts: Sequence[FiringAlert], stop: Stop, now: datetime) -> list[Result]:
    """Stop the release each alert names, in the order Alertmanager sent them."""
    return [Result(alert.name, alert.flag_key, alert.action,
                   stop(alert.flag_key, alert.action, reason(alert), now))
            for alert in alerts]
