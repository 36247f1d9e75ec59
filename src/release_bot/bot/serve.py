"""`release-bot serve`: Bolt over HTTP (waitress) or Socket Mode, plus sweeps and delivery."""

from __future__ import annotations

import os
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from pydantic import SecretStr
from slack_sdk.errors import SlackApiError

from release_bot.bot.http import serve_http, wsgi_app
from release_bot.bot.pipelines_file import PipelinesConfig
from release_bot.bot.scheduler import Sweeper
from release_bot.bot.settings import Settings
from release_bot.bot.slack.app import build_app
from release_bot.bot.slack.client import make_web_client
from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.delivery import Deliverer
from release_bot.bot.slack.membership import SlackMembership
from release_bot.core.errors import DomainError
from release_bot.core.service import ReleaseService
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.unit_of_work import Database


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
        self.service = ReleaseService(self.database.uow, self.config.pipelines, self.membership)
        doorbell = threading.Event()
        self.ctx = SlackContext(self.service, self.membership, doorbell.set, utc_now)
        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.deliverer = Deliverer(
            SqlDeliveryQueue(self.database), self.client, self.ctx, doorbell, worker
        )
        try:
            self.app = build_app(self.ctx, self.client, secret)
        except SlackApiError as error:
            raise DomainError(
                f"Slack refused SLACK_BOT_TOKEN: {error.response.get('error')}."
            ) from None
        self.sweeper = Sweeper(self.service, utc_now, doorbell.set)

    def start_background(self) -> None:
        """Start delivery and the timer sweeps."""
        self.deliverer.start()
        self.sweeper.start()
        self.ctx.kick_delivery()

    def stop_background(self) -> None:
        """Finish the sweep and delivery in hand, then stop them."""
        self.sweeper.stop()
        self.deliverer.stop()

    def run(self, port: int) -> None:
        """Serve until SIGINT/SIGTERM."""
        signal.signal(signal.SIGTERM, _interrupt)
        self.start_background()
        try:
            app_token = self.settings.slack_app_token
            if app_token is not None:
                from slack_bolt.adapter.socket_mode import SocketModeHandler

                SocketModeHandler(self.app, app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
            else:
                serve_http(wsgi_app(self.app, self.database.ping), port)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_background()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _required(value: SecretStr | None, name: str) -> str:
    if value is None or not value.get_secret_value():
        raise DomainError(
            f"{name} is not set: create the Slack app from manifest.yml "
            "(see the README) and export its credentials."
        )
    return value.get_secret_value()
