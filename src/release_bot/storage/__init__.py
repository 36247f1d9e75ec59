"""Persistence of the core models with SQLAlchemy 2 (SQLite or Postgres)."""

from release_bot.storage.database import (
    DEFAULT_DATABASE_URL,
    Database,
    is_current,
    make_engine,
    normalize_url,
    open_database,
    upgrade,
)
from release_bot.storage.outbox import OutboxMessage, OutboxStatus

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Database",
    "OutboxMessage",
    "OutboxStatus",
    "is_current",
    "make_engine",
    "normalize_url",
    "open_database",
    "upgrade",
]
