"""Random sessions of people and timers steering releases, checked against a reference model.

The model and the sessions live in tests.support.release_sessions (the storage tier runs them on
SQLite and Postgres too); here they run on the in-memory fakes with many examples.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.support.release_sessions import ReleaseSessions

ReleaseSessions.TestCase.settings = settings(
    max_examples=200, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReleaseSessions = ReleaseSessions.TestCase
