"""The HTTP front: Bolt's WSGI handler on /slack/events and a health check, served by waitress."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body
from waitress import serve

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(app: App, healthy: Callable[[], bool]) -> WSGIApplication:
    """Route Slack's requests to Bolt and `GET /healthz` to the database check."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            ok = healthy()
            body = b"ok\n" if ok else b"database unreachable\n"
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(
                status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if environ.get("PATH_INFO") == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            raw = _read_body(environ)
            if not _parses(raw, environ.get("CONTENT_TYPE")):
                message = b"malformed request: the body is neither Slack's form nor JSON\n"
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))],
                )
                return [message]
        return bolt(environ, start_response)

    return route


def _read_body(environ: WSGIEnvironment) -> bytes:
    """Read the request body and put it back for Bolt to read again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def _parses(raw: bytes, content_type: str | None) -> bool:
    """True when Bolt can parse the body into an object (it would answer 500 otherwise)."""
    try:
        return isinstance(parse_body(raw.decode("utf-8"), content_type), dict)
    except ValueError:
        return False


def serve_http(app: WSGIApplication, port: int, host: str = "0.0.0.0", threads: int = 16) -> None:
    """Serve the WSGI app with waitress until interrupted."""
    serve(app, host=host, port=port, threads=threads, ident="release-bot")
