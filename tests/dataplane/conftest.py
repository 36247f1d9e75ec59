"""The release service and a data-plane snapshot on the test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_bot.bot.dataplane.snapshot import Snapshot
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.samples import standard_pipeline, team


@pytest.fixture
def service(database: Database) -> ReleaseService:
    """ReleaseService over the test database, the three-phase pipeline and a static team."""
    return ReleaseService(database.uow, {"standard": standard_pipeline()}, team())


@pytest.fixture
def snapshot(database: Database) -> Iterator[Snapshot]:
    """A snapshot of the test database's staging and production, polled in the background."""
    snap = Snapshot(database, standard_pipeline().environments, poll_seconds=0.05)
    snap.start()
    yield snap
    snap.stop()
