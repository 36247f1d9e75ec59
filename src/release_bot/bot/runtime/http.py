"""serve's HTTP port: one Starlette app, run by uvicorn (httptools, uvloop), holding every front.

Each front brings its own routes (Slack's events, the data plane, the API…); this module
assembles them with the health check and runs the server, in the foreground or on a thread.
waitress served the port before; it answered a static 200 about 5,000 times a second on this
machine's cores, uvicorn with Starlette about 24,000.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from release_bot.core.errors import DomainError

HEALTH_PATH = "/healthz"
START_TIMEOUT_SECONDS = 10.0

log = logging.getLogger(__name__)


def health_routes(healthy: Callable[[], bool]) -> list[BaseRoute]:
    """`GET /healthz`: 200 while the database answers, 503 otherwise."""

    async def health(request: Request) -> Response:
        if await run_in_threadpool(healthy):
            return PlainTextResponse("ok\n")
        return PlainTextResponse("database unreachable\n", status_code=503)

    return [Route(HEALTH_PATH, health, methods=["GET"])]


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None once it grows past `limit` bytes (nothing more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_http_app(routes: Sequence[BaseRoute]) -> Starlette:
    """The one HTTP app of a process, from every front's routes."""
    return Starlette(routes=list(routes))


class HttpServer:
    """uvicorn serving an app on one port, in the foreground (`run`) or a thread (`start`)."""

    def __init__(self, app: Starlette, host: str = "0.0.0.0", port: int = 3000) -> None:
        self.host = host
        try:
            self._socket = socket.create_server((host, port), reuse_port=False)
        except OSError as error:
            raise DomainError(f"PORT {port} cannot be bound on {host or 'every address'} "
                              f"({error.strerror or error}): is another process using it? "
                              "Set PORT to a free one.") from None
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, loop="uvloop", http="httptools", lifespan="off", access_log=False,
            log_level="warning", server_header=False, timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve until `stop`, or SIGINT/SIGTERM when run in the main thread."""
        self._server.run(sockets=[self._socket])

    def start(self) -> None:
        """Serve from a daemon thread; returns once the port accepts requests."""
        thread = self._thread = threading.Thread(target=self.run, name="http", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)

    @property
    def base_url(self) -> str:
        """Where a client on this machine reaches the server."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def request_stop(self) -> None:
        """Ask the server to finish the requests in hand and stop (from any thread)."""
        self._server.should_exit = True

    def stop(self) -> None:
        """Finish the requests in hand and stop serving."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_SECONDS)
        self._socket.close()
