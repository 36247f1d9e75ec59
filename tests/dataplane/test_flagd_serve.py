"""flagd from a running `serve` without Slack: the real snapshot behind flagd.json and gRPC.

A change committed through the service reaches an in-process flagd provider without a restart,
and the provider answers as `release-bot eval` does at each state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext

from release_bot.bot.dataplane.keys import SdkKeys
from release_bot.bot.runtime.settings import Settings
from release_bot.core.models import Action, Command, FlagKind
from release_bot.storage import Database
from tests.support.dataplane import eventually
from tests.support.harness import RunningServe
from tests.support.samples import NOW

KEY = "new_checkout"
DEV = "U0DEV"
PIPELINES = """
pipelines:
  rollout:
    phases:
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
UNITS = [(f"user-{n}", {"plan": "beta"} if n % 3 == 0 else {}) for n in range(300)]


@pytest.fixture
def bot(database: Database) -> Iterator[RunningServe]:
    """serve without Slack, with the gRPC sync on a free port and a key for production."""
    settings = Settings(flagd_sync_port=0, release_bot_sdk_keys=SdkKeys.parse("production:k1"))
    served = RunningServe(settings, database, PIPELINES)
    try:
        yield served
    finally:
        served.close()
        api.clear_providers()


def flagd_client(bot: RunningServe) -> OpenFeatureClient:
    """An OpenFeature client on an in-process flagd provider synced from serve's gRPC port."""
    sync = bot.runtime.flagd.sync
    assert sync is not None
    provider = FlagdProvider(resolver_type=ResolverType.IN_PROCESS, host="127.0.0.1",
                             port=sync.port, selector="production", deadline_ms=5000)
    api.set_provider_and_wait(provider, domain=f"flagd-{id(bot)}")
    return api.get_client(domain=f"flagd-{id(bot)}")


def agrees(bot: RunningServe, reader: OpenFeatureClient) -> bool:
    """True when the provider serves every unit what `release-bot eval` serves it."""
    answers: dict[str, Any] = {}
    for unit, attributes in UNITS:
        context = EvaluationContext(targeting_key=unit, attributes=attributes)
        answers[unit] = reader.get_boolean_value(KEY, None, context)  # type: ignore[arg-type]
    return all(answers[unit] == bot.service.evaluate(KEY, "production", unit, attributes)
               for unit, attributes in UNITS)


def test_each_committed_change_reaches_the_provider_without_a_restart(bot: RunningServe):
    bot.service.create_flag(KEY, FlagKind.GATE, "rollout", False, DEV, NOW)
    reader = flagd_client(bot)
    eventually(lambda: agrees(bot, reader))
    release = bot.service.start_release(KEY, True, DEV, NOW)
    eventually(lambda: agrees(bot, reader))
    inside = sum(reader.get_boolean_value(KEY, False, EvaluationContext(unit)) for unit, _ in UNITS)
    assert 0 < inside < 60, "a 10% canary"
    bot.service.advance_due(NOW + timedelta(minutes=61))
    eventually(lambda: agrees(bot, reader))
    assert reader.get_boolean_value(KEY, False, EvaluationContext("someone", {"plan": "beta"}))
    bot.service.act(Command(release.id or 0, Action.ABORT, DEV, phase=1, reason="bad"),
                    NOW + timedelta(minutes=62))
    eventually(lambda: not any(reader.get_boolean_value(KEY, True, EvaluationContext(unit))
                               for unit, _ in UNITS))


def test_flagd_json_is_on_serves_port_behind_the_environments_key(bot: RunningServe):
    bot.service.create_flag(KEY, FlagKind.GATE, "rollout", False, DEV, NOW)
    url = f"{bot.base_url}/environments/production/flagd.json"
    assert requests.get(url, timeout=5).status_code == 401
    eventually(lambda: KEY in requests.get(url, headers={"Authorization": "Bearer k1"},
                                           timeout=5).json()["flags"])


def test_without_a_sync_port_serve_runs_no_grpc_server(database: Database):
    served = RunningServe(Settings(), database, PIPELINES)
    try:
        assert served.runtime.flagd.sync is None
    finally:
        served.close()
