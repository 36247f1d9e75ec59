"""Slack's HTTP endpoint: signed, well-formed requests to /slack/events go to Bolt.

A request is checked in this order, so that nobody without the signing secret gets anything
parsed or logged beyond a line: the signature (401), then the envelope Bolt reads (400), then
Bolt dispatches it on a worker thread (its listeners use the database and Slack's Web API).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from release_bot.bot.slack.envelope import Malformed, read_body

EVENTS_PATH = "/slack/events"
NOT_YET = "release-bot cannot reach Slack yet; it keeps trying"
UNSIGNED = "the request is not signed with the app's signing secret, or not within 5 minutes"

log = logging.getLogger(__name__)


def slack_routes(current_app: Callable[[], App | None], signing_secret: str) -> list[BaseRoute]:
    """`POST /slack/events`, verified before Bolt sees it; 503 until Slack has answered once
    (creating the Bolt app asks Slack who the token is), and Slack retries."""
    verifier = SignatureVerifier(signing_secret)

    async def events(request: Request) -> Response:
        raw = await request.body()
        refusal = _refusal(verifier, request, raw)
        if refusal is not None:
            return refusal
        app = current_app()
        if app is None:
            return PlainTextResponse(f"{NOT_YET}\n", status_code=503)
        answer = await run_in_threadpool(app.dispatch, to_bolt_request(request, raw))
        return to_starlette_response(answer)

    return [Route(EVENTS_PATH, events, methods=["POST"])]


def _refusal(verifier: SignatureVerifier, request: Request, raw: bytes) -> Response | None:
    """The answer to a request Bolt must not see; None for a signed, well-formed one."""
    headers = {
        "x-slack-request-timestamp": request.headers.get("x-slack-request-timestamp", ""),
        "x-slack-signature": request.headers.get("x-slack-signature", ""),
    }
    try:  # a timestamp that is no number, or a body that is not UTF-8, cannot have been signed
        signed = verifier.is_valid_request(raw, headers)
    except (ValueError, TypeError):
        signed = False
    if not signed:
        log.info("refused a request to %s: %s", EVENTS_PATH, UNSIGNED)
        return PlainTextResponse(f"{UNSIGNED}\n", status_code=401)
    content_type = request.headers.get("content-type") or None
    try:
        read_body(raw.decode("utf-8"), content_type and content_type.split(";")[0].strip())
    except Malformed as error:
        log.info("refused a signed request to %s: %s", EVENTS_PATH, error)
        return PlainTextResponse(f"malformed request: {error}\n", status_code=400)
    return None
