"""Stopping a flag's active release through ReleaseService, as the guardrail."""

from __future__ import annotations

from datetime import datetime

from release_bot.bot.alerts.kill_switch import Stop
from release_bot.core.errors import DomainError
from release_bot.core.models import Action, OnFail, ReleaseState
from release_bot.core.sentences import Sentence
from release_bot.core.service import ReleaseService, check_flag_key

_DONE = {Action.PAUSE: "paused", Action.ABORT: "aborted"}


def stopper(service: ReleaseService) -> Stop:
    """A Stop that acts through the service's guardrail; refusals come back as their sentence."""

    def stop(flag_key: str, action: Action, reason: Sentence, now: datetime) -> str:
        try:
            check_flag_key(flag_key)
            _, _, release = service.flag(flag_key)
            if release is None or release.id is None:
                return f"{flag_key} has no active release: nothing to stop."
            act = OnFail.ABORT if action is Action.ABORT else OnFail.PAUSE
            if service.guardrail(release.id, act, reason, now) is not None:
                return f"Release #{release.id} {_DONE[action]}."
            # the guardrail leaves a release as it is when pausing cannot apply
            latest = service.release(release.id)
        except DomainError as error:
            return error.message
        if latest.state is ReleaseState.PAUSED:
            return f"Release #{latest.id} is already paused."
        if latest.state is ReleaseState.AWAITING_APPROVAL:
            return (f"Release #{latest.id} waits for an approval, so no bake runs to pause; "
                    "abort it to take its live phases down.")
        return f"Release #{latest.id} is {latest.state.value}: nothing to stop."

    return stop
