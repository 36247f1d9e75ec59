"""What firing alerts do: pause or abort their flag's active release, each told in a line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from release_bot.bot.alerts.payload import ACTION_LABEL, FiringAlert
from release_bot.core.models import Action
from release_bot.core.quoting import shown
from release_bot.core.sentences import Sentence

# (flag key, pause or abort, reason, now) → what happened, in one sentence
Stop = Callable[[str, Action, Sentence, datetime], str]
SUMMARY_LIMIT = 1000


@dataclass(frozen=True)
class Result:
    """What one alert did; its name and flag quoted on one line, as logs and answers show them."""

    alert: str
    flag: str
    action: Action
    outcome: str

    def json(self) -> dict[str, str]:
        """The result as Alertmanager's logs (and people reading them) see it."""
        return {"alert": self.alert, "flag": self.flag, "action": self.action.value,
                "outcome": self.outcome}


def reason(alert: FiringAlert) -> Sentence:
    """The reason kept in the history: the alert's name and its summary annotation."""
    template = "Alertmanager alert {alert:name} is firing"
    words = {"alert": shown(alert.name), "summary": shown(alert.summary, SUMMARY_LIMIT),
             "label": ACTION_LABEL, "said": shown(alert.unknown_action or "", 40)}
    if alert.summary:
        template += ": {summary:text}"
    if alert.unknown_action is not None:
        template += " ({label} '{said:text}' is neither pause nor abort, so the release is paused)"
    return Sentence(template, {k: v for k, v in words.items() if "{" + k in template})


def act(alerts: Sequence[FiringAlert], stop: Stop, now: datetime) -> list[Result]:
    """Stop the release each alert names, in the order Alertmanager sent them."""
    return [Result(shown(alert.name), shown(alert.flag_key), alert.action,
                   stop(alert.flag_key, alert.action, reason(alert), now))
            for alert in alerts]
