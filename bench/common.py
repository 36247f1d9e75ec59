"""Shared set-up for the benchmarks: fresh databases on SQLite and Postgres, a plain pipeline."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg

from release_bot.core.models import Action, ApprovalGate, Phase, Pipeline
from release_bot.storage.database import Database, open_database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pipeline(
    name: str = "bench", bake: timedelta = timedelta(hours=1), gate_last: bool = False
) -> Pipeline:
    """A two-phase pipeline; the second phase optionally gated by @approvers."""
    return Pipeline(
        name=name,
        channel="C0BENCH",
        phases=(
            Phase("Staging", ("staging",), bake=bake),
            Phase(
                "Production",
                ("production",),
                approval=ApprovalGate(("@approvers",), 1) if gate_last else None,
                bake=bake,
            ),
        ),
        permissions={Action.APPROVE: ("@approvers",)},
    )


def postgres_reachable() -> bool:
    """True when the benchmark Postgres answers."""
    try:
        psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@contextmanager
def fresh_database(kind: str, schema: str) -> Iterator[Database]:
    """A migrated, empty database: a temp SQLite file, or a scratch schema on Postgres."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            database = open_database(f"sqlite:///{folder}/bench.db")
            database.upgrade()
            try:
                yield database
            finally:
                database.dispose()
        return
    plain = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute(f"CREATE SCHEMA {schema}")
    database = open_database(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def backends() -> list[str]:
    """SQLite always; Postgres when reachable."""
    return ["sqlite", "postgres"] if postgres_reachable() else ["sqlite"]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return ordered[rank]
