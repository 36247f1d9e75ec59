"""The Slack front of `serve`: the Bolt app, its membership, delivery of the outbox, and how
Slack's requests reach it (Socket Mode, or signed HTTP on serve's port)."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from starlette.routing import BaseRoute

from release_bot.bot.runtime.pipelines_config import PipelinesConfig
from release_bot.bot.runtime.settings import Secret, Settings
from release_bot.bot.slack.app import build_app
from release_bot.bot.slack.client import make_web_client
from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.delivery import Deliverer
from release_bot.bot.slack.group_check import check_handles
from release_bot.bot.slack.http import slack_routes
from release_bot.bot.slack.membership import SlackMembership
from release_bot.core.errors import DomainError
from release_bot.core.service import ReleaseService
from release_bot.storage.delivery import SqlDeliveryQueue

log = logging.getLogger(__name__)
# seconds between attempts to reach Slack at start, the last one repeated
SLACK_RETRY_SECONDS = (1, 2, 5, 10, 30)


class _SlackUnreachable(Exception):
    """Slack could not be asked (no connection, a 5xx, a 429): worth trying again."""


class SlackFront:
    """Everything of Slack's in one `serve` process."""

    def __init__(
        self,
        settings: Settings,
        config: PipelinesConfig,
        queue: SqlDeliveryQueue,
        build_service: Callable[[SlackMembership], ReleaseService],
        doorbell: threading.Event,
        clock: Callable[[], datetime],
        ring: Callable[[], None] | None = None,
    ) -> None:
        """`ring` tells delivery a change committed (default: the doorbell alone)."""
        token = _required(settings.slack_bot_token, "SLACK_BOT_TOKEN")
        self._app_token = settings.slack_app_token
        self._secret = None
        if self._app_token is None:
            self._secret = _required(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
        self.config = config
        self.client = make_web_client(token, settings.slack_api_url)
        self.membership = SlackMembership(self.client)
        self.service = build_service(self.membership)
        self.ctx = SlackContext(
            self.service, self.membership, ring or doorbell.set, clock, queue.status_message
        )
        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.deliverer = Deliverer(
            queue, _delivery_client(token, settings), self.ctx, doorbell, worker
        )
        self.app: App | None = None
        self.fatal: DomainError | None = None  # why serve had to stop, once Slack answered
        try:
            self.app = self._build_app()
        except _SlackUnreachable as error:
            # Timers and the outbox live in the database: they run while Slack is away, and
            # Slack's requests are served once Slack answers (`start`).
            log.warning("Slack cannot be reached yet (%s); the timers run meanwhile", error)

    @property
    def mode(self) -> str:
        """How Slack's requests arrive, for the start-up line."""
        return "Slack over Socket Mode" if self._app_token else "Slack at POST /slack/events"

    def start(self) -> None:
        """Start delivering the outbox."""
        self.deliverer.start()
        self.ctx.kick_delivery()

    def connect_in_background(self, stop_serving: Callable[[], None]) -> None:
        """Build the app once Slack answers, then check handles and open Socket Mode;
        `stop_serving` is called if Slack refuses (see `fatal`)."""
        threading.Thread(target=self._connect, args=(stop_serving,), name="slack-connect",
                         daemon=True).start()

    def stop(self) -> None:
        """Finish the deliveries in hand, then stop."""
        self.deliverer.stop()

    def routes(self) -> list[BaseRoute]:
        """Slack's HTTP endpoint, unless Slack speaks over Socket Mode."""
        if self._secret is None:
            return []
        return slack_routes(lambda: self.app, self._secret)

    def _connect(self, stop_serving: Callable[[], None]) -> None:
        """Build the app once Slack answers, check the file's group handles, and open Socket
        Mode's connection when that is the way Slack's requests come. A refusal from Slack (a
        wrong token) stops serve with that sentence (`fatal`), as it does when known at start."""
        try:
            self._connect_once_slack_answers()
        except DomainError as error:
            self.fatal = error
            stop_serving()
        except Exception:  # noqa: BLE001 — the traceback is for the operator's log
            log.exception("connecting to Slack failed")
            self.fatal = DomainError("Connecting to Slack failed unexpectedly: the log says why.")
            stop_serving()

    def _connect_once_slack_answers(self) -> None:
        """The connection itself."""
        self.app = app = self.app or self._app_once_slack_answers()
        check_handles(self.config, self.membership)
        if self._app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(app, self._app_token.get_secret_value()).connect()  # type: ignore[no-untyped-call]

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


def _required(value: Secret | None, name: str) -> str:
    if value is None or not value.get_secret_value():
        raise DomainError(
            f"{name} is not set: create the Slack app from manifest.yml "
            "(see the README) and export its credentials."
        )
    return value.get_secret_value()
