"""The stock OpenFeature OFREP provider against a running `serve` without Slack.

The real `openfeature-sdk` with `openfeature-provider-ofrep` reads a flag at every state of a
release; bulk evaluation answers 304 to its own ETag; SDK keys refuse a wrong key with 401.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagEvaluationDetails, Reason

from release_bot.core.evaluation import BUCKETS, bucket
from release_bot.core.models import Action, Command, FlagKind
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.dataplane import eventually, running_serve
from tests.support.harness import RunningServe

KEY = "new_checkout"
PIPELINES = """
pipelines:
  rollout:
    phases:
      - name: Staging
        environments: [staging]
        bake: 1h
      - name: Canary
        environments: [production]
        percentage: 10
        bake: 1h
      - name: Beta
        environments: [production]
        match: {plan: [beta]}
        bake: 1h
      - name: Production
        environments: [production]
"""
INSIDE = next(u for u in (f"user-{n}" for n in range(10_000)) if bucket(KEY, u) < BUCKETS // 10)
OUTSIDE = next(u for u in (f"user-{n}" for n in range(10_000))
               if bucket(KEY, u) >= BUCKETS // 10)
DEV = "U0DEV"


@pytest.fixture
def bot(database: Database) -> Iterator[RunningServe]:
    """serve without Slack, on the test database, with the rollout pipeline."""
    with running_serve(database, PIPELINES) as served:
        yield served


@pytest.fixture(autouse=True)
def no_providers_left() -> Iterator[None]:
    """OpenFeature keeps providers in a global registry: clear it after each test."""
    yield
    api.clear_providers()


def client(bot: RunningServe, environment: str, key: str | None = None) -> OpenFeatureClient:
    """An OpenFeature client whose provider reads the environment over OFREP."""
    headers = None if key is None else (lambda: {"Authorization": f"Bearer {key}"})
    domain = f"{environment}-{key}-{id(bot)}"
    api.set_provider(OFREPProvider(f"{bot.base_url}/environments/{environment}",
                                   headers_factory=headers), domain)
    return api.get_client(domain)


def details(reader: OpenFeatureClient, unit: str | None, **attributes: Any
            ) -> FlagEvaluationDetails[bool]:
    """What the provider resolves the gate to for a unit with attributes."""
    return reader.get_boolean_details(KEY, False, EvaluationContext(unit, attributes))


def seen(reader: OpenFeatureClient, unit: str | None, value: bool,
         **attributes: Any) -> FlagEvaluationDetails[bool]:
    """Wait until the served value for the unit is `value` (the snapshot polls), then return it."""

    def served() -> bool:
        found = details(reader, unit, **attributes)
        return found.error_code is None and found.value is value

    eventually(served)
    return details(reader, unit, **attributes)


def now() -> datetime:
    """The wall clock, as serve's sweeps read it."""
    return datetime.now(UTC)


def act(service: ReleaseService, release_id: int, action: Action, **kw: Any) -> None:
    """Take an action on the release's current phase."""
    current = service.release(release_id).phase
    service.act(Command(release_id, action, DEV, phase=current, **kw), now())


def test_the_provider_reads_every_state_of_a_release(bot: RunningServe) -> None:
    service = bot.service
    service.create_flag(KEY, FlagKind.GATE, "rollout", False, DEV, now())
    staging, production = client(bot, "staging"), client(bot, "production")

    before = seen(production, INSIDE, False)
    assert (before.reason, before.variant, before.flag_metadata) == (
        Reason.STATIC, "v1", {"version": 1})

    release = service.start_release(KEY, True, DEV, now())
    assert release.id is not None
    live = seen(staging, OUTSIDE, True)
    assert (live.variant, live.flag_metadata) == (
        "v2", {"version": 2, "releaseId": release.id, "phase": "Staging"})
    assert details(production, INSIDE).value is False, "production waits for its phase"

    act(service, release.id, Action.SKIP)  # the 10% canary goes live
    canary = seen(production, INSIDE, True)
    assert (canary.reason, canary.flag_metadata["phase"]) == (Reason.SPLIT, "Canary")
    outside = details(production, OUTSIDE)
    assert (outside.value, outside.reason, outside.variant) == (False, Reason.SPLIT, "v1")
    missing = details(production, None)
    assert (missing.value, missing.error_code) == (False, ErrorCode.TARGETING_KEY_MISSING)

    act(service, release.id, Action.SKIP)  # beta users too
    beta = seen(production, OUTSIDE, True, plan="beta")
    assert (beta.reason, beta.flag_metadata["phase"]) == (Reason.TARGETING_MATCH, "Beta")
    assert details(production, OUTSIDE, plan="free").value is False
    assert details(production, INSIDE, plan="free").value is True, "the canary stays live"

    service.act(Command(release.id, Action.FULL_ROLLOUT, DEV, phase=2), now())
    done = seen(production, OUTSIDE, True)
    assert (done.reason, done.variant, done.flag_metadata) == (
        Reason.STATIC, "v2", {"version": 2})

    second = service.start_release(KEY, False, DEV, now())
    assert second.id is not None
    assert seen(staging, OUTSIDE, False).variant == "v3"
    act(service, second.id, Action.ABORT, reason="error rate")
    aborted = seen(staging, OUTSIDE, True)
    assert (aborted.variant, aborted.reason, aborted.flag_metadata) == (
        "v2", Reason.STATIC, {"version": 2})


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None
         ) -> tuple[int, bytes, dict[str, str]]:
    """POST JSON; (status, body, headers) whatever the status."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_bulk_evaluation_answers_304_until_something_changes(bot: RunningServe) -> None:
    bot.service.create_flag(KEY, FlagKind.GATE, "rollout", False, DEV, now())
    bulk = f"{bot.base_url}/environments/staging/ofrep/v1/evaluate/flags"
    context = {"context": {"targetingKey": "user-1"}}
    eventually(lambda: KEY in str(post(bulk, context)[1]))
    status, body, headers = post(bulk, context)
    assert status == 200 and json.loads(body)["flags"][0]["key"] == KEY
    etag = headers["etag"]
    assert post(bulk, context, {"If-None-Match": etag})[:2] == (304, b"")

    bot.service.start_release(KEY, True, DEV, now())
    eventually(lambda: post(bulk, context, {"If-None-Match": etag})[0] == 200)
    status, body, headers = post(bulk, context, {"If-None-Match": etag})
    assert json.loads(body)["flags"][0]["value"] is True and headers["etag"] != etag


def test_sdk_keys_refuse_a_wrong_key_with_401(database: Database) -> None:
    keys = "production:right-key,staging:other-key"
    with running_serve(database, PIPELINES, keys) as bot:
        bot.service.create_flag(KEY, FlagKind.GATE, "rollout", True, DEV, now())
        right = client(bot, "production", "right-key")
        eventually(lambda: details(right, "u1").value is True)

        wrong = details(client(bot, "production", "other-key"), "u1")
        assert (wrong.value, wrong.error_code) == (False, ErrorCode.GENERAL)
        assert wrong.error_message == "unauthorized"
        single = f"{bot.base_url}/environments/production/ofrep/v1/evaluate/flags/"
        for path, headers in ((KEY, {}), ("no_such_flag", {}), (KEY, {"X-API-Key": "x"})):
            status, body, _ = post(single + path, {}, headers)
            assert (status, body) == (401, b""), "no hint of which flags exist"
        assert post(single + KEY, {}, {"X-API-Key": "right-key"})[0] == 200
