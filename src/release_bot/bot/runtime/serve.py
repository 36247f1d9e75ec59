"""`release-bot serve`: the timers, the HTTP port with every front's routes, and Slack when
its credentials are set (over HTTP on the same port, or Socket Mode)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from release_bot.bot.alerts import routes as alerts
from release_bot.bot.api.routes import routes as api_routes
from release_bot.bot.dataplane.flagd_front import FlagdFront
from release_bot.bot.dataplane.routes import routes as dataplane_routes
from release_bot.bot.dataplane.snapshot import Snapshot
from release_bot.bot.guardrails.prometheus import Prometheus
from release_bot.bot.guardrails.runner import GuardrailRunner
from release_bot.bot.runtime.compose import build_service
from release_bot.bot.runtime.http import HttpServer, build_http_app, health_routes
from release_bot.bot.runtime.outbox_drain import OutboxDrain
from release_bot.bot.runtime.pipelines_config import PipelinesConfig
from release_bot.bot.runtime.settings import Settings
from release_bot.bot.runtime.sweeper import Sweeper
from release_bot.bot.webhooks.delivery import WebhookDeliverer
from release_bot.core.policy import Membership
from release_bot.core.service import ReleaseService
from release_bot.storage.checks import SqlCheckQueue
from release_bot.storage.database import Database
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.outbox import Stream

if TYPE_CHECKING:
    from release_bot.bot.slack.front import SlackFront

log = logging.getLogger(__name__)
SLACK_OFF = (
    "Slack is off (SLACK_BOT_TOKEN is not set): timers, health and the other fronts run, and "
    "Slack notifications are dropped; create the Slack app from manifest.yml and export its "
    "credentials to turn it on (see the README)."
)


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything `serve` runs, so tests can start and stop it in-process."""

    settings: Settings
    database: Database
    config: PipelinesConfig

    def __post_init__(self) -> None:
        doorbell, webhook_bell = threading.Event(), threading.Event()

        def ring() -> None:
            """A change committed: Slack's delivery and the webhooks' look for what it queued."""
            doorbell.set()
            webhook_bell.set()

        queue = SqlDeliveryQueue(self.database)
        self.webhooks = WebhookDeliverer(
            SqlDeliveryQueue(self.database, Stream.WEBHOOKS), utc_now,
            f"{socket.gethostname()}:{os.getpid()}", os.environ, webhook_bell,
        )
        self.slack: SlackFront | None = None
        if self.settings.slack_bot_token is not None:
            from release_bot.bot.slack.front import SlackFront

            self.slack = SlackFront(
                self.settings, self.config, queue, self._service, doorbell, utc_now, ring
            )
            self.service = self.slack.service
            self._outbox: SlackFront | OutboxDrain = self.slack
        else:
            self.service = self._service(None)
            self._outbox = OutboxDrain(queue, doorbell, utc_now)
        self.sweeper = Sweeper(self.service, utc_now, ring)
        self.guardrails = _guardrails(self.settings, self.service, self.database, ring)
        self.snapshot = Snapshot(self.database, (
            env for pipeline in self.config.pipelines.values() for env in pipeline.environments))
        self.flagd = FlagdFront(self.snapshot, self.settings.release_bot_sdk_keys,
                                self.settings.flagd_sync_host, self.settings.flagd_sync_port)

    def _service(self, membership: Membership | None) -> ReleaseService:
        """The release service, asking Slack for group membership when Slack is on."""
        return build_service(self.database, self.config, membership)

    def routes(self) -> list[BaseRoute]:
        """Every front's routes on serve's HTTP port."""
        routes = health_routes(self.database.ping)
        routes += alerts.routes(self.service, self.settings.release_bot_alert_token, utc_now)
        routes += api_routes(self.service, self.database, self.settings.api_rate_limit, utc_now)
        if self.slack is not None:
            routes += self.slack.routes()
        routes += dataplane_routes(self.snapshot, self.settings.release_bot_sdk_keys)
        routes += self.flagd.routes()
        return routes

    @property
    def mode(self) -> str:
        """What this process serves, for the start-up line."""
        return self.slack.mode if self.slack is not None else "Slack off"

    def start_background(self) -> None:
        """Load what the data plane serves, then start the outbox's delivery (or drain), the
        timer sweeps and the data plane's polling."""
        if self.slack is None:
            log.warning(SLACK_OFF)
        self.snapshot.start()
        self.flagd.start()
        self._outbox.start()
        self.webhooks.start()
        self.sweeper.start()
        if self.guardrails is not None:
            self.guardrails.start()

    def stop_background(self) -> None:
        """Finish the sweep and delivery in hand, then stop them."""
        if self.guardrails is not None:
            self.guardrails.stop()
        self.sweeper.stop()
        self._outbox.stop()
        self.webhooks.stop()
        self.flagd.stop()
        self.snapshot.stop()

    def http_server(self, port: int, host: str = "0.0.0.0") -> HttpServer:
        """serve's HTTP port with every front's routes, not yet serving."""
        return HttpServer(build_http_app(self.routes()), host, port)

    def run(self, port: int) -> None:
        """Serve until SIGINT/SIGTERM."""
        signal.signal(signal.SIGTERM, _interrupt)
        server = self.http_server(port)
        self.start_background()
        if self.slack is not None:
            self.slack.connect_in_background(server.request_stop)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_background()
        if self.slack is not None and self.slack.fatal is not None:
            raise self.slack.fatal


def _guardrails(settings: Settings, service: ReleaseService, database: Database,
                on_change: Callable[[], None]) -> GuardrailRunner | None:
    """The checks' runner, when PROMETHEUS_URL says where to measure (None: no checks run)."""
    if settings.prometheus_url is None:
        return None
    token = settings.prometheus_token
    prometheus = Prometheus(settings.prometheus_url, token.get_secret_value() if token else None)
    return GuardrailRunner(service, SqlCheckQueue(database), prometheus, utc_now, on_change)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
