"""Turn the database's way of saying "someone else got there first" into ConcurrentUpdate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from release_bot.core.errors import ConcurrentUpdate

UNIQUE_VIOLATION_SQLSTATE = "23505"

# (Postgres constraint name, SQLite column list) -> what happened, in one sentence.
_RACES = (
    (
        ("uq_releases_active_flag_key", "releases.active_flag_key"),
        "Someone else started a release of this flag at the same moment, and a flag has one "
        "active release at a time — look at the flag's releases and retry if needed.",
    ),
    (
        ("pk_flag_versions", "flag_versions.flag_key, flag_versions.number"),
        "Someone else created a new version of this flag at the same moment — look again "
        "and retry.",
    ),
    (
        ("pk_start_keys", "start_keys.owner, start_keys.key"),
        "Someone else sent a start with this Idempotency-Key at the same moment — retry it.",
    ),
    (
        ("pk_flags", "flags.key"),
        "Someone else created a flag with this key at the same moment — look again and retry.",
    ),
)

STALE_RELEASE = (
    "Someone else changed this release at the same moment — look at where it stands now "
    "and retry if it still makes sense."
)


def race_sentence(error: IntegrityError) -> str | None:
    """The sentence for a unique violation that only a concurrent writer can cause, else None."""
    original = error.orig
    text = str(original)
    unique = getattr(original, "sqlstate", None) == UNIQUE_VIOLATION_SQLSTATE or (
        "UNIQUE constraint failed" in text
    )
    if not unique:
        return None
    for markers, sentence in _RACES:
        if any(marker in text for marker in markers):
            return sentence
    return None


@contextmanager
def races_as_concurrent_updates() -> Iterator[None]:
    """Raise ConcurrentUpdate for a failed compare-and-swap or a lost unique-key race."""
    try:
        yield
    except StaleDataError as error:
        raise ConcurrentUpdate(STALE_RELEASE) from error
    except IntegrityError as error:
        sentence = race_sentence(error)
        if sentence is None:
            raise
        raise ConcurrentUpdate(sentence) from error
