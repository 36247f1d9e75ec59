"""A local webhook receiver (port 0) that verifies every request with `standardwebhooks`."""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(b"a test secret of thirty-two bytes").decode()


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    webhook_id: str
    answered: int
    body: dict[str, Any]


class Receiver:
    """Records every POST; answers 503 while `down`, 204 otherwise; refuses bad signatures."""

    def __init__(self, secret: str = SECRET) -> None:
        self.verifier = Webhook(secret)
        self.down = False
        self.requests: list[Received] = []
        self.bad_signatures = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to send events."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[Received]:
        """The requests answered 2xx, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.answered < 300]

    def types(self) -> list[str]:
        """The event types delivered, in arrival order, repeats dropped by webhook-id."""
        seen: set[str] = set()
        types = []
        for r in self.delivered():
            if r.webhook_id not in seen:
                seen.add(r.webhook_id)
                types.append(r.body["type"])
        return types

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Wait until `count` requests were delivered."""
        deadline = time.monotonic() + timeout
        while len(self.delivered()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.delivered()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                data = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    body = receiver.verifier.verify(data, dict(self.headers.items()))
                except WebhookVerificationError:
                    with receiver._lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                status = 503 if receiver.down else 204
                with receiver._lock:
                    receiver.requests.append(Received(self.headers["webhook-id"], status, body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

