"""`release-bot serve`: Bolt over HTTP (waitress) or Socket Mode, plus sweeps and delivery."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from release_bot.bot.guardrails.prometheus import Prometheus
from release_bot.bot.guardrails.runner import GuardrailRunner
from release_bot.bot.runtime.compose import build_service
from release_bot.bot.runtime.group_check import check_handles
from release_bot.bot.runtime.http import serve_http, wsgi_app
from release_bot.bot.runtime.pipelines_config import PipelinesConfig
from release_bot.bot.runtime.settings import Secret, Settings
from release_bot.bot.runtime.sweeper import Sweeper
from release_bot.bot.slack.app import build_app
from release_bot.bot.slack.client import make_web_client
from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.delivery import Deliverer
from release_bot.bot.slack.membership import SlackMembership
from release_bot.core.errors import DomainError
from release_bot.core.service import ReleaseService
from release_bot.storage.checks import SqlCheckQueue
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.unit_of_work import Database

log = logging.getLogger(__name__)
# seconds between attempts to reach Slack at start, the last one repeated
SLACK_RETRY_SECONDS = (1, 2, 5, 10, 30)


class _SlackUnreachable(Exception):
    """Slack could not be asked (no connection, a 5xx, a 429): worth trying again."""


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
        token = _required(self.settings.slack_bot_token, "SLACK_BOT_TOKEN")
        secret = None
        if self.settings.slack_app_token is None:
            secret = _required(self.settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
        self.client = make_web_client(token, self.settings.slack_api_url)
        self.membership = SlackMembership(self.client)
        self.service = build_service(self.database, self.config, self.membership)
        doorbell = threading.Event()
        queue = SqlDeliveryQueue(self.database)
        self.ctx = SlackContext(
            self.service, self.membership, doorbell.set, utc_now, queue.status_message
        )
        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.deliverer = Deliverer(
            queue,
            _delivery_client(token, self.settings),
            self.ctx,
            doorbell,
            worker,
        )
        self.sweeper = Sweeper(self.service, utc_now, doorbell.set)
        self.guardrails = _guardrails(self.settings, self.service, self.database, doorbell.set)
        self._secret = secret
        self.app: App | None = None
        try:
            self.app = self._build_app()
        except _SlackUnreachable as error:
            # Timers and the outbox live in the database: they run while Slack is away, and
            # `run` serves Slack's requests once Slack answers.
            log.warning("Slack cannot be reached yet (%s); the timers run meanwhile", error)

    def _build_app(self) -> App:
        """The Bolt app; creating it asks Slack (auth.test) whose token this is."""
        try:
            return build_app(self.ctx, self.client, self._secret)
        except BoltError as error:
            # Bolt turns auth.test's SlackApiError into a BoltError; the cause says which
            cause = error.__context__
            if not isinstance(cause, SlackApiError):
                raise
            status = cause.response.status_code
            if status == 429 or status >= 500:
                raise _SlackUnreachable(f"Slack answered HTTP {status}") from None
            raise DomainError(
                f"Slack refused SLACK_BOT_TOKEN: {cause.response.get('error')}."
            ) from None
        except OSError as error:  # no connection, a timeout (urllib's URLError is an OSError)
            raise _SlackUnreachable(str(error)) from None

    def _app_once_slack_answers(self) -> App:
        """Build the app, trying again with backoff for as long as Slack cannot be reached."""
        waits = itertools.chain(SLACK_RETRY_SECONDS, itertools.repeat(SLACK_RETRY_SECONDS[-1]))
        while True:
            try:
                return self._build_app()
            except _SlackUnreachable as error:
                wait = next(waits)
                log.warning("Slack cannot be reached (%s); trying again in %ss", error, wait)
                time.sleep(wait)

    def start_background(self) -> None:
        """Start delivery and the timer sweeps."""
        self.deliverer.start()
        self.sweeper.start()
        if self.guardrails is not None:
            self.guardrails.start()
        self.ctx.kick_delivery()

    def stop_background(self) -> None:
        """Finish the sweep and delivery in hand, then stop them."""
        if self.guardrails is not None:
            self.guardrails.stop()
        self.sweeper.stop()
        self.deliverer.stop()

    def run(self, port: int) -> None:
        """Serve until SIGINT/SIGTERM."""
        signal.signal(signal.SIGTERM, _interrupt)
        self.start_background()
        try:
            self.app = app = self.app or self._app_once_slack_answers()
            threading.Thread(
                target=check_handles, args=(self.config, self.membership), daemon=True,
                name="check-user-groups",
            ).start()
            app_token = self.settings.slack_app_token
            if app_token is not None:
                from slack_bolt.adapter.socket_mode import SocketModeHandler

                SocketModeHandler(app, app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
            else:
                secret = _required(self.settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
                serve_http(wsgi_app(app, self.database.ping, secret), port)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_background()


def _guardrails(settings: Settings, service: ReleaseService, database: Database,
                on_change: Callable[[], None]) -> GuardrailRunner | None:
    """The checks' runner, when PROMETHEUS_URL says where to measure (None: no checks run)."""
    if settings.prometheus_url is None:
        return None
    token = settings.prometheus_token
    prometheus = Prometheus(settings.prometheus_url, token.get_secret_value() if token else None)
    return GuardrailRunner(service, SqlCheckQueue(database), prometheus, utc_now, on_change)


def _delivery_client(token: str, settings: Settings) -> WebClient:
    """The bot's client, except that a 429 is not slept off inside the call.

    Delivery hands a rate-limited message back to the outbox, due after its Retry-After, and
    goes on with the other releases of its batch; sleeping in the call would hold them all up.
    """
    client = make_web_client(token, settings.slack_api_url)
    client.retry_handlers = [
        h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)
    ]
    return client


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _required(value: Secret | None, name: str) -> str:
    if value is None or not value.get_secret_value():
        raise DomainError(
            f"{name} is not set: create the Slack app from manifest.yml "
            "(see the README) and export its credentials."
        )
    return value.get_secret_value()
