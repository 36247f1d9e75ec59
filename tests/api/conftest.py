"""A running release-bot with its API, a fake Slack, and tokens made with the CLI."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette

from release_bot.bot.api.routes import routes
from release_bot.bot.runtime.serve import utc_now
from release_bot.bot.slack.pacing import Pacer
from release_bot.core.tokens import TokenService
from release_bot.storage import Database
from tests.support.api_world import API_PIPELINES, ApiWorld
from tests.support.fake_slack import FakeSlack
from tests.support.harness import RunningBot


def _world(database: Database, database_url: str, rate_limit: str) -> Iterator[ApiWorld]:
    with FakeSlack() as fake:
        bot = RunningBot(fake, database, API_PIPELINES)
        bot.runtime.deliverer.pacer = Pacer(sleep=lambda seconds: None)
        app = Starlette(routes=routes(bot.service, TokenService(database.uow), utc_now,
                                      rate_limit, one_at_a_time=True))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        yield ApiWorld(bot, database_url, f"http://127.0.0.1:{sock.getsockname()[1]}")
        server.should_exit = True
        thread.join(5)
        bot.close()


@pytest.fixture
def world(database: Database, database_url: str) -> Iterator[ApiWorld]:
    """release-bot serving the API, its tokens' shares out of the way."""
    yield from _world(database, database_url, "1000/second")


@pytest.fixture
def limited(database: Database, database_url: str) -> Iterator[ApiWorld]:
    """release-bot allowing each token 3 requests a minute."""
    yield from _world(database, database_url, "3/minute")
