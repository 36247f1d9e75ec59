"""The release service wired to the real database, with the sample pipeline and team."""

from __future__ import annotations

import pytest

from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.samples import standard_pipeline, team


@pytest.fixture
def service(database: Database) -> ReleaseService:
    """ReleaseService over the test database (its reads on a connection of their own, as in
    build_service), the three-phase pipeline and a static team."""
    return ReleaseService(database.uow, {"standard": standard_pipeline()}, team(),
                          reads=database.reads)
