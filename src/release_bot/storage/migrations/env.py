"""Alembic environment: runs the migrations on the connection that upgrade() hands over."""

from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from release_bot.storage.schema import UTCDateTime, metadata


def render_item(kind: str, item: object, autogen: AutogenContext) -> str | Literal[False]:
    """Write UTCDateTime into new migrations as a plain aware DateTime, so they never import it."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on the connection (batch mode on SQLite for ALTERs)."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError(
        "Run release-bot's migrations through release_bot.storage.database.upgrade(), "
        "which hands them a database connection."
    )
run_migrations(_connection)
