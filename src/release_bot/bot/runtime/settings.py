"""Settings from the environment (and a `.env` file), twelve-factor style.

python-dotenv reads the `.env` file; a few typed parsers read the values. pydantic-settings
did this before, but its import alone doubled the start-up time of every CLI command.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from release_bot.storage.database import DEFAULT_DATABASE_URL


class Secret:
    """A credential: get_secret_value() gives it; a repr, a log line or a traceback does not."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The credential itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"


def _port(text: str) -> int:
    """PORT as a whole number from 1 to 65535; ValueError says what would be right."""
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= 65535):
        raise ValueError(f"PORT is not valid ({cleaned[:20]!r}): write a whole number from 1 "
                         "to 65535, such as 3000.")
    return int(cleaned)


def _rate_limit(text: str) -> str:
    """API_RATE_LIMIT, checked as it is read; ValueError says how to write it."""
    from release_bot.bot.api.throttle import parse_rate_limit

    parse_rate_limit(text)
    return text


def _secret(text: str) -> Secret | None:
    """A credential; an empty one counts as not set."""
    return Secret(text) if text else None


_PARSERS: dict[str, Callable[[str], Any]] = {
    "database_url": str,
    "release_bot_config": Path,
    "slack_bot_token": _secret,
    "slack_signing_secret": _secret,
    "slack_app_token": _secret,
    "slack_api_url": str,
    "port": _port,
    "release_bot_alert_token": _secret,
    "api_rate_limit": _rate_limit,
    "release_bot_url": str,
    "release_bot_token": _secret,
}


@dataclass(frozen=True)
class Settings:
    """Everything release-bot reads from its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    release_bot_config: Path = Path("pipelines.yml")
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str | None = None
    port: int = 3000
    release_bot_alert_token: Secret | None = None
    api_rate_limit: str = "20/second;600/minute"
    # set both, and the CLI's flag, release and history commands go through this serve's API
    release_bot_url: str | None = None
    release_bot_token: Secret | None = None

    @classmethod
    def from_environment(cls, env_file: Path = Path(".env"), **overrides: Any) -> Settings:
        """Overrides, else the environment, else the `.env` file, else the defaults; names in
        any case (DATABASE_URL, database_url). ValueError names a setting that is not valid."""
        raw = {k.lower(): v for k, v in dotenv_values(env_file).items() if v is not None}
        raw.update((k.lower(), v) for k, v in os.environ.items())
        found = {name: parse(raw[name]) for name, parse in _PARSERS.items() if name in raw}
        return cls(**(found | overrides))
