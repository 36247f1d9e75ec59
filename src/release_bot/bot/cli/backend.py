"""Where the flag, release and history commands get their answers: the database, or serve's
HTTP API when RELEASE_BOT_URL and RELEASE_BOT_TOKEN are set. Both hand the printers the same
values, so the output and exit codes are the same either way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import click

from release_bot.bot.cli import inputs
from release_bot.bot.cli.common import now
from release_bot.bot.cli.output import flag_data
from release_bot.bot.runtime.compose import Root
from release_bot.core.errors import InvalidInput
from release_bot.core.models import Action, Command, Event, FlagKind, Release, Version

# a release and the versions it carries a flag between, as the printers take them
Shown = tuple[Release, Mapping[int, Version]]


class Releases(Protocol):
    """What the flag, release and history commands ask for."""

    def flags(self) -> Sequence[dict[str, Any]]:
        """Every flag, as `flag list --json` prints it."""
        ...

    def flag(self, key: str) -> dict[str, Any]:
        """One flag, as `flag show --json` prints it."""
        ...

    def create_flag(self, key: str, kind: FlagKind, pipeline: str, value: Any,
                    actor: str | None) -> dict[str, Any]:
        """Create a flag; the new flag."""
        ...

    def start_release(self, key: str, value: Any, actor: str | None,
                      once: str | None = None) -> Shown:
        """Start a release of a flag to a new value (`once`: an idempotency key)."""
        ...

    def release(self, release_id: int) -> Shown:
        """One release."""
        ...

    def releases(self, *, active_only: bool, flag_key: str | None) -> Sequence[Release]:
        """Releases, newest first."""
        ...

    def act(self, release_id: int, action: Action, actor: str | None, phase: str | None,
            reason: str | None) -> Shown:
        """Act on a release (at the phase counted from 1, when given); the release after."""
        ...

    def history(self, key: str) -> Sequence[Event]:
        """A flag's history, oldest first."""
        ...


def releases(root: Root, option: str, default: str | None = None) -> Releases:
    """The API when RELEASE_BOT_URL is set (with its token), else the database; `option` is
    the command's who-acts option, which the API does not take (its token acts), and
    `default` who acts on the database when it is not given."""
    settings = root.settings
    if settings.release_bot_url is None:
        return Local(root, option, default)
    if settings.release_bot_token is None:
        raise InvalidInput(
            "RELEASE_BOT_URL is set but RELEASE_BOT_TOKEN is not: export the secret that "
            "'release-bot token create' printed, or unset RELEASE_BOT_URL to use the database."
        )
    from release_bot.bot.cli.remote import Remote

    return Remote(settings.release_bot_url, settings.release_bot_token.get_secret_value(),
                  option)


class Local:
    """The release service on the database."""

    def __init__(self, root: Root, option: str, default: str | None) -> None:
        self.root = root
        self.option = option
        self.default = default

    def _actor(self, actor: str | None) -> str:
        """Who acts: the database needs to be told."""
        actor = actor or self.default
        if actor is None:
            raise click.UsageError(f"Missing option '{self.option}'.",
                                   click.get_current_context(silent=True))
        return actor

    def flags(self) -> Sequence[dict[str, Any]]:
        """Every flag, as `flag list --json` prints it."""
        service = self.root.service()
        return [flag_data(*service.flag(f.key)) for f in service.flags()]

    def flag(self, key: str) -> dict[str, Any]:
        """One flag, as `flag show --json` prints it."""
        return flag_data(*self.root.service().flag(key))

    def create_flag(self, key: str, kind: FlagKind, pipeline: str, value: Any,
                    actor: str | None) -> dict[str, Any]:
        """Create a flag; the new flag."""
        who = self._actor(actor)
        service = self.root.service(with_pipelines=True)
        service.create_flag(key, kind, pipeline, value, who, now())
        return flag_data(*service.flag(key))

    def start_release(self, key: str, value: Any, actor: str | None,
                      once: str | None = None) -> Shown:
        """Start a release of a flag to a new value (an idempotency key is the API's)."""
        if once is not None:
            raise InvalidInput("--idempotency-key is kept by the API: set RELEASE_BOT_URL and "
                               "RELEASE_BOT_TOKEN, or drop it.")
        who = self._actor(actor)
        service = self.root.service(with_pipelines=True)
        started = service.start_release(key, value, who, now())
        return started, service.flag(key)[1]

    def release(self, release_id: int) -> Shown:
        """One release."""
        service = self.root.service()
        found = service.release(release_id)
        return found, service.flag(found.flag_key)[1]

    def releases(self, *, active_only: bool, flag_key: str | None) -> Sequence[Release]:
        """Releases, newest first."""
        return self.root.service().releases(active_only=active_only, flag_key=flag_key)

    def act(self, release_id: int, action: Action, actor: str | None, phase: str | None,
            reason: str | None) -> Shown:
        """Act on a release (at the phase counted from 1, when given); the release after."""
        who = self._actor(actor)
        service = self.root.service(with_pipelines=True)
        index = None if phase is None else inputs.phase_index(phase, service.release(release_id))
        done = service.act(Command(release_id, action, who, phase=index, reason=reason),
                           now())
        return done, service.flag(done.flag_key)[1]

    def history(self, key: str) -> Sequence[Event]:
        """A flag's history, oldest first."""
        return self.root.service().history(key)
