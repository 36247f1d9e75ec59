"""Errors as RFC 9457 problem documents; the one place a refusal's kind picks its status."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from release_bot.core.errors import DomainError, Kind, RuleBroken

MEDIA_TYPE = "application/problem+json"
STATUS = {
    Kind.UNAUTHENTICATED: HTTPStatus.UNAUTHORIZED,
    Kind.PERMISSION: HTTPStatus.FORBIDDEN,
    Kind.NOT_FOUND: HTTPStatus.NOT_FOUND,
    Kind.STATE: HTTPStatus.CONFLICT,
    Kind.OUT_OF_DATE: HTTPStatus.CONFLICT,
    Kind.CONFLICT: HTTPStatus.CONFLICT,
    Kind.VALUE: HTTPStatus.UNPROCESSABLE_ENTITY,
    Kind.INPUT: HTTPStatus.UNPROCESSABLE_ENTITY,
    Kind.UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
}
# the kinds whose problem carries the release as it is now, as an out-of-date click shows it
SHOWS_RELEASE = frozenset({Kind.STATE, Kind.OUT_OF_DATE})


def problem(status: HTTPStatus, detail: str, kind: str, *, extra: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
    """A problem document: `detail` is the sentence the CLI prints."""
    body = {"type": f"urn:release-bot:problem:{kind}", "title": status.phrase,
            "status": int(status), "detail": detail, **(extra or {})}
    return Response(json.dumps(body, ensure_ascii=False), int(status), dict(headers or {}),
                    MEDIA_TYPE)


def refusal(error: DomainError, extra: Mapping[str, Any] | None = None) -> Response:
    """The problem for a refusal of the core, its status chosen by its kind."""
    headers = {"WWW-Authenticate": "Bearer"} if error.kind is Kind.UNAUTHENTICATED else None
    rule = {"rule": error.code} if isinstance(error, RuleBroken) else {}
    return problem(STATUS[error.kind], error.message, error.kind.value,
                   extra={**rule, **(extra or {})}, headers=headers)
