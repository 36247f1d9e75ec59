"""What the data plane serves, read in one go, and the served revision that says when to reread.

Every unit of work that changes a flag, a version or a release adds one to the served revision
in the same transaction, so a replica polls one row and reloads only when it moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from release_bot.core.models import Flag, Release
from release_bot.storage.mapping import flag_from_row, release_from_row
from release_bot.storage.reads import READ_ONLY
from release_bot.storage.schema import flag_versions, flags, releases, served_revision
from release_bot.storage.tables import FlagRow, FlagVersionRow, ReleaseRow

SERVED_ROWS = (FlagRow, FlagVersionRow, ReleaseRow)
CHANGED = "served_changed"  # session.info key: this transaction changed what is served
PAIRS_PER_QUERY = 500  # (flag, version) pairs per IN list, well under SQLite's parameter limit


@dataclass(frozen=True)
class ServedState:
    """Every flag, the active release of each, and the values of the versions they serve."""

    revision: int
    flags: tuple[Flag, ...]
    releases: dict[str, Release]
    values: dict[tuple[str, int], Any]


def track_served_changes(sessions: sessionmaker[Session]) -> None:
    """Mark each session of the factory whose flushes touch flags, versions or releases."""

    def note(session: Session, context: object, instances: object) -> None:
        touched = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(row, SERVED_ROWS) for row in touched):
            session.info[CHANGED] = True

    event.listen(sessions, "before_flush", note)


def bump_if_changed(session: Session) -> None:
    """Add one to the served revision when this transaction changed what is served."""
    if session.info.pop(CHANGED, False):
        session.execute(update(served_revision).where(served_revision.c.id == 1)
                        .values(revision=served_revision.c.revision + 1))


def forget_changes(session: Session) -> None:
    """The transaction rolled back: nothing it did is to be counted."""
    session.info.pop(CHANGED, None)


def current_revision(engine: Engine) -> int:
    """The served revision, read outside any write lock (a poll every ~200 ms on each replica)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT revision FROM served_revision WHERE id = 1")
        row = cursor.fetchone()
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return int(row[0]) if row else 0


def load_served(engine: Engine) -> ServedState:
    """Everything served, read in one consistent snapshot with the revision it belongs to."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as connection:
        revision = connection.scalar(select(served_revision.c.revision)) or 0
        found = tuple(flag_from_row(row) for row in connection.execute(select(flags)))
        active = select(releases).where(releases.c.active_flag_key.is_not(None))
        by_flag = {row.flag_key: release_from_row(row) for row in connection.execute(active)}
        wanted = sorted(_versions_served(found, by_flag.values()))
        values: dict[tuple[str, int], Any] = {}
        for start in range(0, len(wanted), PAIRS_PER_QUERY):
            pairs = wanted[start:start + PAIRS_PER_QUERY]
            rows = connection.execute(
                select(flag_versions.c.flag_key, flag_versions.c.number, flag_versions.c.value)
                .where(tuple_(flag_versions.c.flag_key, flag_versions.c.number).in_(pairs))
            )
            values.update(((key, number), value) for key, number, value in rows)
    return ServedState(revision, found, by_flag, values)


def _versions_served(found: Iterable[Flag], active: Iterable[Release]) -> set[tuple[str, int]]:
    """(flag, version) of every base any environment serves and every release's new version."""
    wanted = {(f.key, n) for f in found for n in (f.default_version, *f.env_versions.values())}
    return wanted | {(r.flag_key, r.to_version) for r in active}
