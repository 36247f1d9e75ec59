"""Settings from the environment (and a `.env` file), twelve-factor style."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from release_bot.storage.database import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    """Everything release-bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    release_bot_config: Path = Path("pipelines.yml")
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    port: int = Field(3000, ge=1, le=65535)
