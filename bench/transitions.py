"""Transitions per second through the release service, against the same database's floor.

The floor is a bare loop of single-row UPDATE transactions on the same engine; the ratio says
how much of the database's capacity a full transition (read, CAS update, history row, outbox
rows) keeps. Target: >= 0.3 of the floor on Postgres.

    .venv/bin/python bench/machine.py [--count 2000]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.common import backends, fresh_database, pipeline
from release_bot.core.models import Action, Command, FlagKind
from release_bot.core.service import ReleaseService
from release_bot.storage.database import Database


class NoGroups:
    """Membership that knows no groups (the bench's actions are open to anyone)."""

    def is_member(self, user_id: str, group: str) -> bool:
        """Nobody is in any group."""
        return False


def floor_rate(database: Database, count: int) -> float:
    """Single-row UPDATE transactions per second."""
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, n INTEGER)"))
        connection.execute(text("INSERT INTO bench_floor VALUES (1, 0)"))
    started = time.perf_counter()
    for _ in range(count):
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE bench_floor SET n = n + 1 WHERE id = 1"))
    return count / (time.perf_counter() - started)


def service_rate(database: Database, count: int) -> float:
    """Pause/unpause transitions per second through ReleaseService.act."""
    bench = pipeline()
    service = ReleaseService(database.uow, {bench.name: bench}, NoGroups())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    service.create_flag("bench_flag", FlagKind.GATE, bench.name, False, "U0BENCH", now)
    release = service.start_release("bench_flag", True, "U0BENCH", now)
    assert release.id is not None
    actions = (Action.PAUSE, Action.UNPAUSE)
    started = time.perf_counter()
    for i in range(count):
        now += timedelta(seconds=1)
        service.act(Command(release.id, actions[i % 2], "U0BENCH", 0), now)
    return count / (time.perf_counter() - started)


def main() -> None:
    """Print floor, service rate and their ratio for each reachable database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    count = parser.parse_args().count
    print(f"{'database':<10} {'floor tx/s':>12} {'service tx/s':>13} {'ratio':>7}")
    for kind in backends():
        with fresh_database(kind, "bench_transitions") as database:
            floor = floor_rate(database, count)
            rate = service_rate(database, count)
        print(f"{kind:<10} {floor:>12.0f} {rate:>13.0f} {rate / floor:>7.2f}")


if __name__ == "__main__":
    main()
