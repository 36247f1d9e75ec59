"""The data plane's HTTP routes: OFREP under /environments/{environment}/ofrep/v1/.

The endpoints are plain ASGI callables rather than Starlette request/response functions: a
request is small and its answer precomputed, so Starlette's Request and Response objects
would be most of the cost of an evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from release_bot.bot.dataplane.keys import SdkKeys
from release_bot.bot.dataplane.ofrep import MAX_BODY, Answer, Ofrep
from release_bot.bot.dataplane.snapshot import Snapshot

log = logging.getLogger(__name__)
OFREP = "/environments/{environment}/ofrep/v1/evaluate/flags"
# the request headers the data plane reads
HEADERS = frozenset({b"authorization", b"x-api-key", b"if-none-match"})
JSON = (b"content-type", b"application/json")
UNAUTHORIZED = Answer(401)

Handler = Callable[[dict[str, Any], dict[str, str], bytes], Answer]


def routes(snapshot: Snapshot, keys: SdkKeys | None) -> list[BaseRoute]:
    """OFREP's single and bulk evaluations, behind the SDK keys when they are set."""
    if keys is None:
        log.warning("RELEASE_BOT_SDK_KEYS is not set: anyone who can reach this port reads "
                    "every environment's flags (set environment:key pairs to require keys)")
    else:
        for environment in sorted(keys.environments - snapshot.environments):
            log.warning("RELEASE_BOT_SDK_KEYS has keys for %r, which no pipeline names: a typo?",
                        environment)
    ofrep = Ofrep(snapshot)

    def evaluate(params: dict[str, Any], headers: dict[str, str], body: bytes) -> Answer:
        return ofrep.evaluate(params["environment"], params["key"], body)

    def evaluate_all(params: dict[str, Any], headers: dict[str, str], body: bytes) -> Answer:
        return ofrep.evaluate_all(params["environment"], body, headers.get("if-none-match"))

    return [
        Route(OFREP + "/{key}", Endpoint(evaluate, keys), methods=["POST"]),
        Route(OFREP, Endpoint(evaluate_all, keys), methods=["POST"]),
    ]


class Endpoint:
    """An ASGI endpoint: the SDK key check first, then the handler on the whole body.

    A class, so that Starlette routes to it as an ASGI app instead of wrapping it in Request.
    """

    def __init__(self, handle: Handler, keys: SdkKeys | None) -> None:
        self.handle = handle
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request."""
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"] if name in HEADERS}
        params = scope["path_params"]
        if self.keys is not None and not self.keys.allows(params["environment"], headers):
            await respond(send, UNAUTHORIZED)
            return
        await respond(send, self.handle(params, headers, await read_body(receive)))


async def read_body(receive: Receive) -> bytes:
    """The request's body, or its first MAX_BODY + 1 bytes: enough to refuse it as too large
    without holding all of it."""
    chunks, size = [], 0
    while size <= MAX_BODY:
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def respond(send: Send, answer: Answer) -> None:
    """Send an answer: JSON unless it has no body (304, 401)."""
    headers = [(b"content-length", str(len(answer.body)).encode())]
    if answer.body:
        headers.append(JSON)
    if answer.etag is not None:
        headers.append((b"etag", answer.etag.encode()))
    if answer.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
