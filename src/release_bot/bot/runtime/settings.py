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

from release_bot.bot.dataplane.keys import SdkKeys
from release_bot.storage.database import DEFAULT_DATABASE_URL

LOOPBACK = "127.0.0.1"


class Secret:
    """A credential: get_secret_value() gives it; a repr, a log line or a traceback does not."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The credential itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"


def _port(text: str, name: str = "PORT", example: int = 3000) -> int:
    """A port as a whole number from 1 to 65535; ValueError says what would be right."""
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= 65535):
        raise ValueError(f"{name} is not valid ({cleaned[:20]!r}): write a whole number from 1 "
                         f"to 65535, such as {example}.")
    return int(cleaned)


def _sync_port(text: str) -> int | None:
    """FLAGD_SYNC_PORT, the flagd gRPC sync port; empty counts as not set (no sync service)."""
    return _port(text, "FLAGD_SYNC_PORT", 8015) if text.strip() else None


def _sync_host(text: str) -> str:
    """FLAGD_SYNC_HOST; empty counts as not set, so an empty value never binds every address."""
    return text.strip() or LOOPBACK


def _http_url(text: str) -> str | None:
    """PROMETHEUS_URL: an http(s) URL without a trailing slash; empty counts as not set."""
    cleaned = text.strip().rstrip("/")
    if not cleaned:
        return None
    scheme, _, rest = cleaned.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in rest):
        raise ValueError(f"PROMETHEUS_URL is not valid ({cleaned[:40]!r}): write the server's "
                         "address, such as http://prometheus:9090.")
    return cleaned


def _rate_limit(text: str) -> str:
    """API_RATE_LIMIT, checked as it is read; ValueError says how to write it."""
    from release_bot.bot.api.throttle import parse_rate_limit

    parse_rate_limit(text)
    return text


def _secret(text: str) -> Secret | None:
    """A credential; an empty one counts as not set."""
    return Secret(text) if text else None


def _sdk_keys(text: str) -> SdkKeys | None:
    """RELEASE_BOT_SDK_KEYS; empty counts as not set (reads are open)."""
    return SdkKeys.parse(text) if text.strip() else None


_PARSERS: dict[str, Callable[[str], Any]] = {
    "database_url": str,
    "release_bot_config": Path,
    "flagd_sync_port": _sync_port,
    "flagd_sync_host": _sync_host,
    "slack_bot_token": _secret,
    "slack_signing_secret": _secret,
    "slack_app_token": _secret,
    "slack_api_url": str,
    "port": _port,
    "prometheus_url": _http_url,
    "prometheus_token": _secret,
    "release_bot_alert_token": _secret,
    "api_rate_limit": _rate_limit,
    "release_bot_url": str,
    "release_bot_token": _secret,
    "release_bot_sdk_keys": _sdk_keys,
}


@dataclass(frozen=True)
class Settings:
    """Everything release-bot reads from its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    release_bot_config: Path = Path("pipelines.yml")
    flagd_sync_port: int | None = None
    flagd_sync_host: str = LOOPBACK
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str | None = None
    port: int = 3000
    prometheus_url: str | None = None
    prometheus_token: Secret | None = None
    release_bot_alert_token: Secret | None = None
    api_rate_limit: str = "20/second;600/minute"
    # set both, and the CLI's flag, release and history commands go through this serve's API
    release_bot_url: str | None = None
    release_bot_token: Secret | None = None
    release_bot_sdk_keys: SdkKeys | None = None

    @classmethod
    def from_environment(cls, env_file: Path = Path(".env"), **overrides: Any) -> Settings:
        """Overrides, else the environment, else the `.env` file, else the defaults; names in
        any case (DATABASE_URL, database_url). ValueError names a setting that is not valid."""
        raw = {k.lower(): v for k, v in dotenv_values(env_file).items() if v is not None}
        raw.update((k.lower(), v) for k, v in os.environ.items())
        found = {name: parse(raw[name]) for name, parse in _PARSERS.items() if name in raw}
        return cls(**(found | overrides))
