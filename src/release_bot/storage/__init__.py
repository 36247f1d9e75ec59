"""Persistence of the core models with SQLAlchemy 2 (SQLite or Postgres)."""
