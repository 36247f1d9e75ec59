"""Settings from the environment (and a `.env` file), twelve-factor style.

Read by hand rather than with pydantic-settings, whose import alone would double the start-up
time of a CLI command.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from release_bot.storage.database import DEFAULT_DATABASE_URL

# what a port may look like: digits, `_` between digits, a zero fraction (`3000.0`)
_INTEGER = re.compile(r"\s*([+-]?[0-9]+(?:_[0-9]+)*)(?:\.0+)?\s*", re.ASCII)


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
    """PORT as a number from 1 to 65535; ValueError says what is wrong with it."""
    found = _INTEGER.fullmatch(text)
    if found is None:
        raise ValueError(
            "PORT is not valid: Input should be a valid integer, unable to parse string as an "
            "integer."
        )
    port = int(found.group(1))
    if port < 1:
        raise ValueError("PORT is not valid: Input should be greater than or equal to 1.")
    if port > 65535:
        raise ValueError("PORT is not valid: Input should be less than or equal to 65535.")
    return port


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

    @classmethod
    def from_environment(cls, env_file: Path = Path(".env"), **overrides: Any) -> Settings:
        """Overrides, else the environment, else the `.env` file, else the defaults; names in
        any case (DATABASE_URL, database_url). ValueError names a setting that is not valid."""
        raw = {k.lower(): v for k, v in dotenv_values(env_file).items() if v is not None}
        raw.update((k.lower(), v) for k, v in os.environ.items())
        found = {name: parse(raw[name]) for name, parse in _PARSERS.items() if name in raw}
        return cls(**(found | overrides))
