"""`POST /alerts/alertmanager`: the bearer token first, then the body, then the kill switch.

Nothing of a request without the token is read beyond its headers (401); with no token set
the webhook is off and says so (403).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from release_bot.bot.alerts.kill_switch import act
from release_bot.bot.alerts.payload import Malformed, firing_alerts
from release_bot.bot.alerts.stopping import stopper
from release_bot.bot.runtime.http import capped_body
from release_bot.bot.runtime.settings import Secret
from release_bot.core.service import ReleaseService

PATH = "/alerts/alertmanager"
# Alertmanager groups alerts; a few thousand of them fit well under this
BODY_LIMIT = 4 * 1024 * 1024
OFF = ("The Alertmanager webhook is off: set RELEASE_BOT_ALERT_TOKEN and give Alertmanager the "
       "same value as its bearer token.")
UNAUTHORIZED = ("The request does not carry the bearer token: set Alertmanager's "
                "http_config.authorization.credentials to RELEASE_BOT_ALERT_TOKEN.")
TOO_LARGE = f"The body is larger than {BODY_LIMIT // (1024 * 1024)} MiB: send fewer alerts at once."

log = logging.getLogger(__name__)


def routes(service: ReleaseService, token: Secret | None, clock: Callable[[], datetime]
           ) -> list[BaseRoute]:
    """The webhook's route, stopping releases through the service; no token turns it off."""
    stop = stopper(service)
    expected = token.get_secret_value() if token is not None else None

    async def webhook(request: Request) -> Response:
        if not expected:
            return PlainTextResponse(OFF + "\n", 403)
        if not _bearer_is(request.headers.get("authorization", ""), expected):
            log.info("refused a request to %s without the bearer token", PATH)
            return PlainTextResponse(UNAUTHORIZED + "\n", 401,
                                     headers={"WWW-Authenticate": "Bearer"})
        raw = await capped_body(request, BODY_LIMIT)
        if raw is None:
            return PlainTextResponse(TOO_LARGE + "\n", 413)
        try:
            alerts = await run_in_threadpool(firing_alerts, raw)
        except Malformed as error:
            log.info("refused a request to %s: %s", PATH, error)
            return PlainTextResponse(f"{error}\n", 400)
        results = await run_in_threadpool(act, alerts, stop, clock())
        for result in results:
            log.info("alert %s for %s (%s): %s", result.alert, result.flag,
                     result.action.value, result.outcome)
        return JSONResponse({"results": [result.json() for result in results]})

    return [Route(PATH, webhook, methods=["POST"])]


def _bearer_is(header: str, token: str) -> bool:
    """True when the Authorization header is `Bearer <token>`, compared in constant time."""
    scheme, _, given = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode())
