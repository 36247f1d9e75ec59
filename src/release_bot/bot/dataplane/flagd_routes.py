"""GET /environments/{env}/flagd.json: an environment's flagd document, for flagd's HTTP sync."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from release_bot.bot.dataplane.flagd import ServedViews, flagd_json


class KeyCheck(Protocol):
    """Who may read an environment (the data plane's SDK keys)."""

    def allows(self, environment: str, headers: Mapping[str, str]) -> bool:
        """True when the headers carry one of the environment's keys."""
        ...


def flagd_routes(views: ServedViews, keys: KeyCheck | None) -> list[BaseRoute]:
    """The flagd.json route, answering from the views in memory (keys None: reads are open)."""
    rendered: dict[str, tuple[str, bytes]] = {}

    async def flagd_definitions(request: Request) -> Response:
        """The document with its ETag; 304 when the client already holds it."""
        environment = request.path_params["environment"]
        if keys is not None and not keys.allows(environment, request.headers):
            return Response(status_code=401)
        view = views.view(environment)
        if view is None:
            return JSONResponse({"error": f"No pipeline names the environment {environment!r}."},
                                status_code=404)
        etag = f'"flagd-{view.etag}"'
        if _tags(request.headers.get("if-none-match", "")) & {etag, "*"}:
            return Response(status_code=304, headers={"ETag": etag})
        cached = rendered.get(environment)
        if cached is None or cached[0] != etag:
            cached = rendered[environment] = (etag, flagd_json(view).encode())
        return Response(cached[1], media_type="application/json", headers={"ETag": etag})

    return [Route("/environments/{environment}/flagd.json", flagd_definitions, methods=["GET"])]


def _tags(header: str) -> set[str]:
    """The entity tags an If-None-Match header lists, weak ones compared as strong."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
