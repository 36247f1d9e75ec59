"""OFREP evaluations (open-feature/protocol service/openapi.yaml) from the in-memory snapshot.

A request is: read the context, decide with the core, pick precomputed bytes. Errors are the
protocol's: 404 FLAG_NOT_FOUND, 400 PARSE_ERROR / INVALID_CONTEXT / TARGETING_KEY_MISSING.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from release_bot.bot.dataplane.ofrep_answers import (
    EnvironmentAnswers,
    answers_for,
    encode,
    failure,
)
from release_bot.bot.dataplane.snapshot import Snapshot
from release_bot.core.evaluation import UnitNeeded, decide
from release_bot.core.quoting import shown

MAX_BODY = 64 * 1024
TARGETING_KEY = "targetingKey"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, JSON body (empty for 304) and the ETag of a bulk answer."""

    status: int
    body: bytes = b""
    etag: str | None = None


@dataclass(frozen=True)
class Context:
    """Who asks: the unit id (targetingKey), if any, and the other attributes."""

    unit: str | None
    attributes: Mapping[str, object]


class BadRequest(Exception):
    """A body that is not an OFREP request: the error code and what is wrong."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


def read_context(body: bytes) -> Context:
    """The context of a request body; an empty body or context asks with no unit at all."""
    if not body.strip():
        return Context(None, {})
    if len(body) > MAX_BODY:
        raise BadRequest("PARSE_ERROR", f"The body is larger than {MAX_BODY // 1024} KiB.")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("PARSE_ERROR", 'The body is not JSON: send {"context": {...}}.') from None
    context = document.get("context") if isinstance(document, dict) else []
    if context is None:
        context = {}  # no context, or a null one: ask as nobody in particular
    if not isinstance(context, dict):
        raise BadRequest("PARSE_ERROR", 'The body must be {"context": {...}}, the context an '
                                        "object.")
    unit = context.get(TARGETING_KEY)
    if unit is not None and not isinstance(unit, str):
        raise BadRequest("INVALID_CONTEXT", "targetingKey must be a string: the unit's id.")
    attributes = {k: v for k, v in context.items() if k != TARGETING_KEY}
    return Context(unit or None, attributes)


class Ofrep:
    """OFREP over a snapshot: answers are rebuilt for an environment when its ETag changes."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._answers: dict[str, EnvironmentAnswers] = {}

    def evaluate(self, environment: str, key: str, body: bytes) -> Answer:
        """One flag for the body's context."""
        answers = self._environment(environment)
        if answers is None:
            return _json(404, failure(key, "FLAG_NOT_FOUND", self._no_environment(environment)))
        flag = answers.flags.get(key)
        if flag is None:
            details = f"There is no flag '{shown(key)}' in {shown(environment)}."
            return _json(404, failure(key, "FLAG_NOT_FOUND", details))
        try:
            context = read_context(body)
            decision = decide(flag.served, context.unit, context.attributes)
        except BadRequest as error:
            return _json(400, failure(key, error.code, error.details))
        except UnitNeeded as error:
            return _json(400, failure(key, "TARGETING_KEY_MISSING", error.message))
        return Answer(200, flag.bodies[decision.version, decision.reason])

    def evaluate_all(self, environment: str, body: bytes, if_none_match: str | None) -> Answer:
        """Every flag for the body's context, with an ETag; 304 when If-None-Match has it."""
        answers = self._environment(environment)
        if answers is None:
            return _json(400, failure(None, "GENERAL", self._no_environment(environment)))
        etag = f'"{answers.etag}-{hashlib.blake2b(body, digest_size=6).hexdigest()}"'
        if if_none_match is not None and _matches(if_none_match, etag):
            return Answer(304, etag=etag)
        try:
            context = read_context(body)
        except BadRequest as error:
            return _json(400, failure(None, error.code, error.details))
        parts = []
        for key, flag in answers.flags.items():
            try:
                decision = decide(flag.served, context.unit, context.attributes)
            except UnitNeeded as error:
                parts.append(encode(failure(key, "TARGETING_KEY_MISSING", error.message)))
                continue
            parts.append(flag.bodies[decision.version, decision.reason])
        return Answer(200, b'{"flags":[' + b",".join(parts) + b"]}", etag)

    def _environment(self, environment: str) -> EnvironmentAnswers | None:
        """The environment's answers, rebuilt if its view changed; None for an unknown one."""
        view = self.snapshot.view(environment)
        if view is None:
            return None
        answers = self._answers.get(environment)
        if answers is None or answers.etag != view.etag:
            answers = self._answers[environment] = answers_for(view)
        return answers

    def _no_environment(self, environment: str) -> str:
        known = ", ".join(sorted(self.snapshot.environments)) or "none"
        return (f"There is no environment '{shown(environment)}': the pipelines file names "
                f"{known}.")


def _matches(if_none_match: str, etag: str) -> bool:
    """True when an If-None-Match header names the ETag (weakly compared) or is `*`."""
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return any(tag in (etag, "*") for tag in tags)


def _json(status: int, document: object) -> Answer:
    return Answer(status, encode(document))
