"""`/api/v1`: flags, releases, actions and history for deploy pipelines, as Starlette routes.

Each request is authenticated, counted against its token's share and answered in one trip to
the thread pool, so the event loop never waits on the database. On SQLite, where a write
transaction takes the one write lock, requests take turns in that pool (a limiter of one): they
queue in order here instead of in SQLite's busy handler, whose growing sleeps let the slowest
of 8 concurrent starts wait over a second (p99 1.3 s; 42 ms taking turns, and more of them a
second); reads, which take no lock, lose nothing by it (p99 52 ms → 24 ms).

Starts and actions check the token's scopes in the core, which keeps a denial in the history
like a denied click; reads and flag creation check them here, with no release to keep it
against.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from http import HTTPStatus
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import yaml
from sqlalchemy.exc import DatabaseError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from release_bot.bot.api import inputs
from release_bot.bot.api.problems import SHOWS_RELEASE, problem, refusal
from release_bot.bot.api.throttle import Throttle
from release_bot.bot.cli.output import event_data, flag_data, release_data, release_summary
from release_bot.bot.runtime.http import capped_body
from release_bot.core.errors import DomainError, Kind
from release_bot.core.models import Command, Scope, Token
from release_bot.core.rules import TokenHasScope, check
from release_bot.core.service import ReleaseService
from release_bot.core.tokens import UNAUTHENTICATED, TokenService
from release_bot.storage.database import Database

PREFIX = "/api/v1"
MAX_BODY = 256 * 1024  # a request body is read no further: a value is at most 64 KiB of JSON
DOCUMENT = Path(__file__).with_name("openapi.yaml")
UNEXPECTED = "release-bot failed unexpectedly; the error is in its log."
UNUSABLE = "The database cannot be used right now: retry in a moment."

log = logging.getLogger(__name__)
Work = Callable[[Token], Response]


def _json(data: Any, status: int = 200, location: str | None = None) -> Response:
    """A JSON answer, with where the resource is when one was made."""
    headers = {"Location": location} if location else None
    return JSONResponse(data, status, headers)


def _bearer(header: str | None) -> str | None:
    """The secret of `Authorization: Bearer SECRET`, else None."""
    scheme, _, secret = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None


@dataclass
class Api:
    """The API's parts: the release and token services, the clock and the throttle."""

    service: ReleaseService
    tokens: TokenService
    clock: Callable[[], datetime]
    throttle: Throttle
    limiter: anyio.CapacityLimiter | None  # None: Starlette's thread pool, as run_in_threadpool

    @cached_property
    def document(self) -> bytes:
        """The OpenAPI document as JSON, read once."""
        return json.dumps(yaml.safe_load(DOCUMENT.read_text())).encode()

    async def answer(self, request: Request, needed: Scope | None, work: Work) -> Response:
        """Authenticate, throttle, check the scope (if `needed`), then do the work: all in
        the thread pool. Every refusal is a problem document."""
        secret = _bearer(request.headers.get("authorization"))
        return await anyio.to_thread.run_sync(self._answer, secret, needed, work,
                                              limiter=self.limiter)

    def _answer(self, secret: str | None, needed: Scope | None, work: Work) -> Response:
        try:
            if secret is None:
                raise DomainError(UNAUTHENTICATED, kind=Kind.UNAUTHENTICATED)
            token = self.tokens.authenticate(secret, self.clock())
            wait = self.throttle.wait(token.name)
            if wait is not None:
                return problem(HTTPStatus.TOO_MANY_REQUESTS,
                               f"Token {token.name} sent more than its share of requests: "
                               f"retry in {wait} s.", "rate_limited",
                               headers={"Retry-After": str(wait)})
            if needed is not None:
                check(TokenHasScope(token.principal, token.scopes, needed))
            return work(token)
        except DomainError as error:
            return refusal(error)
        except DatabaseError as error:
            log.warning("an API request could not use the database: %s", error.orig or error)
            return problem(HTTPStatus.SERVICE_UNAVAILABLE, UNUSABLE, "unavailable")
        except Exception:  # noqa: BLE001 — the caller gets a sentence, the log the traceback
            log.exception("an API request failed")
            return problem(HTTPStatus.INTERNAL_SERVER_ERROR, UNEXPECTED, "unexpected")

    def release_view(self, release_id: int) -> dict[str, Any]:
        """A release as `release show --json` prints it, and the checks of its live phases."""
        release, versions = self.service.release_with_versions(release_id)
        data = release_data(release, versions)
        checks = [{"phase": p["index"], **c} for p in data["phases"] for c in p["checks"]]
        return {**data, "checks": checks}

    def flag_view(self, key: str) -> dict[str, Any]:
        """A flag as `flag show --json` prints it."""
        return flag_data(*self.service.flag(key))

    # endpoints

    async def openapi(self, request: Request) -> Response:
        """GET /openapi.json: the document, without a token."""
        return Response(self.document, media_type="application/json")

    async def list_flags(self, request: Request) -> Response:
        """GET /flags."""
        return await self.answer(request, Scope.READ, lambda token: _json(
            {"flags": [self.flag_view(flag.key) for flag in self.service.flags()]}))

    async def create_flag(self, request: Request) -> Response:
        """POST /flags."""
        raw = await capped_body(request, MAX_BODY)
        if raw is None:
            return _too_large()

        def work(token: Token) -> Response:
            key, kind, pipeline, value = inputs.new_flag(raw)
            self.service.create_flag(key, kind, pipeline, value, token.principal, self.clock())
            return _json(self.flag_view(key), 201, f"{PREFIX}/flags/{key}")

        return await self.answer(request, Scope.START, work)

    async def show_flag(self, request: Request) -> Response:
        """GET /flags/{key}."""
        key = request.path_params["key"]
        return await self.answer(request, Scope.READ,
                                 lambda token: _json(self.flag_view(inputs.flag_key(key))))

    async def start_release(self, request: Request) -> Response:
        """POST /flags/{key}/releases, with an optional Idempotency-Key."""
        key, raw = request.path_params["key"], await capped_body(request, MAX_BODY)
        if raw is None:
            return _too_large()
        header = request.headers.get("idempotency-key")

        def work(token: Token) -> Response:
            flag, once = inputs.flag_key(key), inputs.idempotency_key(header)
            value = inputs.new_release(raw)
            release, new = self.service.start_once(flag, value, token.principal, self.clock(),
                                                   once, scopes=token.scopes)
            assert release.id is not None, "a started release has an id"
            return _json(self.release_view(release.id), 201 if new else 200,
                         f"{PREFIX}/releases/{release.id}")

        return await self.answer(request, None, work)

    async def history(self, request: Request) -> Response:
        """GET /flags/{key}/history?offset=N&limit=N."""
        key, query = request.path_params["key"], request.query_params

        def work(token: Token) -> Response:
            flag = inputs.flag_key(key)
            offset, limit = inputs.page(query)
            events = self.service.history(flag, offset=offset, limit=limit + 1)
            more = len(events) > limit
            following = f"{PREFIX}/flags/{flag}/history?offset={offset + limit}&limit={limit}"
            return _json({"events": [event_data(e) for e in events[:limit]],
                          "next": following if more else None})

        return await self.answer(request, Scope.READ, work)

    async def list_releases(self, request: Request) -> Response:
        """GET /releases?active=true&flag=KEY."""
        query = request.query_params

        def work(token: Token) -> Response:
            active = inputs.active(query.get("active"))
            flag = query.get("flag")
            key = None if flag is None else inputs.flag_key(flag)
            found = self.service.releases(active_only=active, flag_key=key)
            return _json({"releases": [release_summary(r) for r in found]})

        return await self.answer(request, Scope.READ, work)

    async def show_release(self, request: Request) -> Response:
        """GET /releases/{id}."""
        number = request.path_params["id"]
        return await self.answer(request, Scope.READ, lambda token: _json(
            self.release_view(inputs.release_id(number))))

    async def act(self, request: Request) -> Response:
        """POST /releases/{id}/actions: `{"action", "phase", "reason"}`."""
        number, raw = request.path_params["id"], await capped_body(request, MAX_BODY)
        if raw is None:
            return _too_large()

        def work(token: Token) -> Response:
            release_id, asked = inputs.release_id(number), inputs.action(raw)
            command = Command(release_id, asked.action, token.principal, asked.phase,
                              asked.reason, token.scopes)
            try:
                self.service.act(command, self.clock())
            except DomainError as error:
                if error.kind not in SHOWS_RELEASE:
                    raise
                return refusal(error, {"release": self.release_view(release_id)})
            return _json(self.release_view(release_id))

        return await self.answer(request, None, work)


def routes(service: ReleaseService, database: Database, rate_limit: str,
           clock: Callable[[], datetime]) -> list[BaseRoute]:
    """The API's routes under /api/v1, over the service and the database's tokens."""
    one_at_a_time = database.engine.dialect.name == "sqlite"  # see the module's doc
    limiter = anyio.CapacityLimiter(1) if one_at_a_time else None
    tokens = TokenService(database.uow, database.reads)
    api = Api(service, tokens, clock, Throttle(rate_limit), limiter)
    return [
        Route(f"{PREFIX}/openapi.json", api.openapi, methods=["GET"]),
        Route(f"{PREFIX}/flags", api.list_flags, methods=["GET"]),
        Route(f"{PREFIX}/flags", api.create_flag, methods=["POST"]),
        Route(f"{PREFIX}/flags/{{key}}", api.show_flag, methods=["GET"]),
        Route(f"{PREFIX}/flags/{{key}}/releases", api.start_release, methods=["POST"]),
        Route(f"{PREFIX}/flags/{{key}}/history", api.history, methods=["GET"]),
        Route(f"{PREFIX}/releases", api.list_releases, methods=["GET"]),
        Route(f"{PREFIX}/releases/{{id}}", api.show_release, methods=["GET"]),
        Route(f"{PREFIX}/releases/{{id}}/actions", api.act, methods=["POST"]),
    ]


def _too_large() -> Response:
    """The answer to a body over MAX_BODY, read no further."""
    return problem(HTTPStatus.UNPROCESSABLE_ENTITY,
                   f"The request body is larger than {MAX_BODY // 1024} KiB: a flag value is "
                   "at most 64 KiB of JSON.", Kind.INPUT.value)
