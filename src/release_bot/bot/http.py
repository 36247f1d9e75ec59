"""The HTTP front: Bolt's WSGI handler on /slack/events and a health check, served by waitress."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
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
        return bolt(environ, start_response)

    return route


def serve_http(app: WSGIApplication, port: int, host: str = "0.0.0.0", threads: int = 16) -> None:
    """Serve the WSGI app with waitress until interrupted."""
    serve(app, host=host, port=port, threads=threads, ident="release-bot")
