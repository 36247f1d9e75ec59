"""release-bot's serve without Slack, its Alertmanager webhook on (or off), on a free port."""

from __future__ import annotations

from datetime import datetime

from release_bot.bot.runtime.serve import utc_now
from release_bot.bot.runtime.settings import Secret, Settings
from release_bot.core.models import FlagKind
from release_bot.storage import Database
from tests.support.harness import RunningServe

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


class AlertingBot(RunningServe):
    """serve with RELEASE_BOT_ALERT_TOKEN set to `token` (None: unset); `start` a release."""

    kind = FlagKind.GATE

    def __init__(self, database: Database, token: str | None) -> None:
        settings = Settings(release_bot_alert_token=Secret(token) if token else None)
        super().__init__(settings, database, PIPELINES)

    @staticmethod
    def clock() -> datetime:
        return utc_now()

    def start(self, key: str) -> int:
        """A gate at false and a release to true; its id."""
        self.service.create_flag(key, FlagKind.GATE, "standard", False, "U0DEV", self.clock())
        release = self.service.start_release(key, True, "U0DEV", self.clock())
        assert release.id is not None
        return release.id
