"""Persistence of the core models with SQLAlchemy 2 (SQLite or Postgres)."""

from release_bot.storage.database import (
    DEFAULT_DATABASE_URL,
    is_current,
    make_engine,
    normalize_url,
    upgrade,
)
from release_bot.storage.outbox import OutboxMessage, OutboxStatus
from release_bot.storage.unit_of_work import Database, SqlUnitOfWork, open_database

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Database",
    "OutboxMessage",
    "OutboxStatus",
    "SqlUnitOfWork",
    "is_current",
    "make_engine",
    "normalize_url",
    "open_database",
    "upgrade",
]
