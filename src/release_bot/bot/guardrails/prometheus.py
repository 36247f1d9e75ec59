"""A Prometheus HTTP API client for instant queries: one number, or no data and why."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT = 5.0  # seconds; an answer later than this is no data


@dataclass(frozen=True)
class Reading:
    """A query's answer: one finite number, or None and why there is no data."""

    value: float | None
    detail: str | None = None


class Prometheus:
    """Asks `/api/v1/query` at a Prometheus server (bearer token optional)."""

    def __init__(self, url: str, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/") + "/api/v1/query"
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def query(self, promql: str) -> Reading:
        """The query's value now; no data for no series, several, NaN, an error or a timeout."""
        request = urllib.request.Request(
            self.url, data=urllib.parse.urlencode({"query": promql}).encode(),
            headers={**self.headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return Reading(None, f"Prometheus answered HTTP {error.code}{_error_of(error)}")
        except TimeoutError:
            return Reading(None, f"no answer within {self.timeout:g}s")
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                return Reading(None, f"no answer within {self.timeout:g}s")
            return Reading(None, f"Prometheus could not be asked: {_short(str(reason))}")
        return reading_of(body)


def reading_of(body: Any) -> Reading:
    """The number in an instant query's JSON answer, or why there is none."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        return Reading(None, f"the query failed: {_short(str(error or 'no status'))}")
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return _number(result)
    if kind != "vector" or not isinstance(result, list):
        return Reading(None, f"the query gave a {kind or 'strange'} result, not one number")
    if len(result) != 1:
        return Reading(None, "no series" if not result else f"{len(result)} series, not one")
    sample = result[0]
    return _number(sample.get("value") if isinstance(sample, dict) else None)


def _number(pair: Any) -> Reading:
    """A `[timestamp, "value"]` pair as a finite number."""
    try:
        value = float(pair[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return Reading(None, "the answer held no number")
    if not math.isfinite(value):
        return Reading(None, f"the value is {pair[1]}")
    return Reading(value)


def _error_of(error: urllib.error.HTTPError) -> str:
    """Prometheus's own error text from an error answer's body, if it has one."""
    try:
        body = json.loads(error.read())
    except (OSError, ValueError):
        return ""
    text = body.get("error") if isinstance(body, dict) else None
    return f": {_short(str(text))}" if text else ""


def _short(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
