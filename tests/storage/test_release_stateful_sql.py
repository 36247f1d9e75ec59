"""The release sessions of tests.support.release_sessions, on SQLite and Postgres.

Each example gets a fresh flag (and so fresh buckets) in the one database of the test; the sweep's
answer is read for that flag only, since releases of earlier examples stay in the database. To stay
quick it runs fewer, shorter examples and probes one ordinary unit per environment besides the
units around the thresholds.
"""

from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from release_bot.storage import Database
from tests.support.release_sessions import ORDINARY, ReleaseSessions


def test_release_sessions_agree_with_the_model_on_the_database(database: Database) -> None:
    keys = (f"flag-{n}" for n in count())
    run_state_machine_as_test(
        lambda: ReleaseSessions(database.uow, next(keys), ORDINARY[:1]),
        settings=settings(max_examples=20, stateful_step_count=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
