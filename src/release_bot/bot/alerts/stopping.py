"""Stopping a flag's active release through ReleaseService, as the system actor `guardrail`."""

from __future__ import annotations

from datetime import datetime

from release_bot.bot.alerts.kill_switch import Stop
from release_bot.core.errors import DomainError
from release_bot.core.models import Action, Command, ReleaseState
from release_bot.core.sentences import Sentence
from release_bot.core.service import ReleaseService

GUARDRAIL = "guardrail"
_DONE = {Action.PAUSE: "paused", Action.ABORT: "aborted"}


def stopper(service: ReleaseService) -> Stop:
    """A Stop that acts through the service; refusals come back as their sentence."""

    def stop(flag_key: str, action: Action, reason: Sentence, now: datetime) -> str:
        try:
            _, _, release = service.flag(flag_key)
        except DomainError as error:
            return error.message
        if release is None or release.id is None:
            return f"{flag_key} has no active release: nothing to stop."
        if action is Action.PAUSE and release.state is ReleaseState.PAUSED:
            return f"Release #{release.id} is already paused."
        try:
            service.act(Command(release.id, action, GUARDRAIL, reason=reason.plain), now)
        except DomainError as error:
            return error.message
        return f"Release #{release.id} {_DONE[action]}."

    return stop

