"""The HTTP front: Bolt's WSGI handler on /slack/events and a health check, served by waitress.

A request to /slack/events is checked in this order, so that nobody without the signing secret
gets anything parsed or logged beyond a line: the signature (401), then the envelope Bolt reads
(400), then Bolt dispatches it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from waitress import serve

from release_bot.bot.slack.envelope import Malformed, read_body

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
UNSIGNED = "the request is not signed with the app's signing secret, or not within 5 minutes"

log = logging.getLogger(__name__)


def wsgi_app(app: App, healthy: Callable[[], bool], signing_secret: str) -> WSGIApplication:
    """Route Slack's signed, well-formed requests to Bolt and `GET /healthz` to the database."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)
    verifier = SignatureVerifier(signing_secret)

    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            ok = healthy()
            return _plain(start_response, "200 OK" if ok else "503 Service Unavailable",
                          "ok" if ok else "database unreachable")
        if environ.get("PATH_INFO") == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            refusal = _refusal(verifier, environ)
            if refusal is not None:
                return _plain(start_response, *refusal)
        return bolt(environ, start_response)

    return route


def _refusal(verifier: SignatureVerifier, environ: WSGIEnvironment) -> tuple[str, str] | None:
    """(status, why) for a request Bolt must not see; None for a signed, well-formed one."""
    raw = _read_body(environ)
    headers = {
        "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
        "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
    }
    try:  # a timestamp that is no number, or a body that is not UTF-8, cannot have been signed
        signed = verifier.is_valid_request(raw, headers)
    except (ValueError, TypeError):
        signed = False
    if not signed:
        log.info("refused a request to %s: %s", EVENTS_PATH, UNSIGNED)
        return "401 Unauthorized", UNSIGNED
    content_type = environ.get("CONTENT_TYPE") or None
    try:
        read_body(raw.decode("utf-8"), content_type and content_type.split(";")[0].strip())
    except Malformed as error:
        log.info("refused a signed request to %s: %s", EVENTS_PATH, error)
        return "400 Bad Request", f"malformed request: {error}"
    return None


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    """A short plain-text answer."""
    body = f"{text}\n".encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _read_body(environ: WSGIEnvironment) -> bytes:
    """Read the request body and put it back for Bolt to read again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def serve_http(app: WSGIApplication, port: int, host: str = "0.0.0.0", threads: int = 16) -> None:
    """Serve the WSGI app with waitress until interrupted."""
    serve(app, host=host, port=port, threads=threads, ident="release-bot")
