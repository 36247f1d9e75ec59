"""A fake of Prometheus's HTTP API (instant queries) whose answers the test sets, per query."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NO_SERIES = "no series"  # an answer: an empty vector
FAIL = "fail"  # an answer: HTTP 500 with Prometheus's error body


class _Server(ThreadingHTTPServer):
    """A threaded server with Prometheus's patience: a long accept queue (the standard library
    keeps 5, so a burst of connections waits out SYN retries of 1 s and 3 s), and a client
    that gave up before its answer is no error."""

    request_queue_size = 512
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that left (a query that timed out)."""


class FakePrometheus:
    """`/api/v1/query` on a free port: a number (one series), NO_SERIES or FAIL per query.

    Unknown queries have no series. `delay` seconds pass before each answer; `asked` keeps
    (query, Authorization header) of every request.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.answers: dict[str, float | str] = {}
        self.asked: list[tuple[str, str | None]] = []
        self.delay = delay
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                query = urllib.parse.urlsplit(self.path).query
                fake._answer(self, urllib.parse.parse_qs(query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                fake._answer(self, urllib.parse.parse_qs(body))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePrometheus:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def set(self, query: str, answer: float | str) -> None:
        """What the query answers from now on."""
        with self._lock:
            self.answers[query] = answer

    def times_asked(self, query: str) -> int:
        """How many times the query was asked."""
        with self._lock:
            return sum(1 for q, _ in self.asked if q == query)

    def _answer(self, handler: BaseHTTPRequestHandler, params: dict[str, list[str]]) -> None:
        if urllib.parse.urlsplit(handler.path).path != "/api/v1/query":
            self._send(handler, 404, {"status": "error", "error": "not found"})
            return
        query = (params.get("query") or [""])[0]
        with self._lock:
            self.asked.append((query, handler.headers.get("Authorization")))
            answer = self.answers.get(query, NO_SERIES)
        if self.delay:
            time.sleep(self.delay)
        if answer == FAIL:
            self._send(handler, 500, {"status": "error", "errorType": "execution",
                                      "error": "query processing failed"})
            return
        result = [] if answer == NO_SERIES else [
            {"metric": {}, "value": [time.time(), format(float(answer), "g")]}]
        self._send(handler, 200, {"status": "success",
                                  "data": {"resultType": "vector", "result": result}})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
