"""The alerts webhook served over HTTP on a free port, on a real service and database."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette

from release_bot.bot.alerts.routes import routes
from release_bot.bot.alerts.stopping import stopper
from release_bot.bot.runtime.pipelines_file import parse_pipelines
from release_bot.bot.runtime.static_membership import StaticMembership
from release_bot.core.models import FlagKind
from release_bot.core.service import ReleaseService
from release_bot.storage import Database

TOKEN = "alert-token-7f3a"
PIPELINES = """
members:
  "@eng": [U0DEV]
pipelines:
  standard:
    channel: C0RELEASE
    permissions:                # people's permissions: the guardrail is not bound by them
      pause: ["@eng"]
      abort: ["@eng"]
    phases:
      - name: Staging
        environments: [staging]
        bake: 1h
      - name: Production
        environments: [production]
        approval: {groups: ["@eng"], required: 1}
        bake: 1h
"""


class AlertingBot:
    """The webhook's routes in a server on port 0; `start` a release to stop."""

    kind = FlagKind.GATE

    def __init__(self, database: Database, token: str | None) -> None:
        config = parse_pipelines(PIPELINES)
        self.service = ReleaseService(database.uow, config.pipelines,
                                      StaticMembership(config.members))
        app = Starlette(routes=routes(stopper(self.service), token, self.clock))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    @staticmethod
    def clock() -> datetime:
        return datetime.now(UTC)

    def start(self, key: str) -> int:
        """A gate at false and a release to true; its id."""
        self.service.create_flag(key, FlagKind.GATE, "standard", False, "U0DEV", self.clock())
        release = self.service.start_release(key, True, "U0DEV", self.clock())
        assert release.id is not None
        return release.id

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)
