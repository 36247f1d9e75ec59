"""OFREP over HTTP at its edges: oversized bodies, methods, content types, unknown places."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from release_bot.core.models import FlagKind
from release_bot.storage import Database
from tests.support.dataplane import eventually, running_serve
from tests.support.harness import RunningServe

PIPELINES = """
pipelines:
  plain:
    phases:
      - name: Production
        environments: [production]
"""
FLAG = "/environments/production/ofrep/v1/evaluate/flags/limits"


@pytest.fixture
def bot(database: Database) -> Iterator[RunningServe]:
    """serve without Slack, with one config flag in production."""
    with running_serve(database, PIPELINES) as served:
        served.service.create_flag("limits", FlagKind.CONFIG, "plain", {"max": 3}, "U0DEV",
                                   datetime.now(UTC))
        eventually(lambda: call(served, FLAG, b"{}")[0] == 200)
        yield served


def call(bot: RunningServe, path: str, body: bytes | None, method: str = "POST",
         headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """One request; (status, body, headers) whatever the status."""
    request = urllib.request.Request(bot.base_url + path, data=body, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_an_answer_is_json_whatever_the_request_said_it_sent(bot: RunningServe) -> None:
    plain = {"Content-Type": "text/plain"}
    status, body, headers = call(bot, FLAG, b'{"context":{}}', headers=plain)
    assert (status, headers["content-type"]) == (200, "application/json")
    assert json.loads(body)["value"] == {"max": 3}


def test_an_oversized_body_is_a_parse_error_read_no_further(bot: RunningServe) -> None:
    padding = b" " * (1024 * 1024)
    status, body, _ = call(bot, FLAG, b'{"context":{"targetingKey":"u1"}' + padding + b"}")
    assert status == 400
    assert json.loads(body) == {"key": "limits", "errorCode": "PARSE_ERROR",
                                "errorDetails": "The body is larger than 64 KiB."}


def test_only_post_evaluates(bot: RunningServe) -> None:
    assert call(bot, FLAG, None, method="GET")[0] == 405


def test_unknown_flags_and_environments_say_what_exists(bot: RunningServe) -> None:
    status, body, _ = call(bot, "/environments/qa/ofrep/v1/evaluate/flags/limits", b"")
    assert (status, json.loads(body)["errorDetails"]) == (
        404, "There is no environment 'qa': the pipelines file names production.")
    status, body, _ = call(bot, "/environments/production/ofrep/v1/evaluate/flags/nope", b"")
    assert (status, json.loads(body)["errorCode"]) == (404, "FLAG_NOT_FOUND")
