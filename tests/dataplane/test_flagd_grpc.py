"""The stock flagd provider in-process, synced over our gRPC, answers as release-bot eval does."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext
from openfeature.schemas.protobuf.flagd.sync.v1 import sync_pb2, sync_pb2_grpc

from release_bot.bot.dataplane.grpc_sync import GrpcSyncServer
from release_bot.core.errors import DomainError
from release_bot.core.evaluation import serve
from release_bot.core.models import Action, Command, FlagKind, Phase, Pipeline, Release
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.flagd_views import ServiceViews
from tests.support.samples import MANAGER, NOW, TRIGGERER, team

ENVIRONMENTS = ("staging", "production")
GATE, CONFIG = "new_checkout", "checkout_copy"
COUNTRIES = ("NZ", "AU", "US", "DE")
UNITS = [(f"user-{n}", {"country": COUNTRIES[n % 4]} if n % 5 else {}) for n in range(1000)]


def regional() -> Pipeline:
    """Staging → 10% of production → production in NZ and AU → all of production."""
    hour = timedelta(hours=1)
    return Pipeline(name="regional", phases=(
        Phase("Staging", ("staging",), bake=hour),
        Phase("Canary", ("production",), percentage=10, bake=hour),
        Phase("Oceania", ("production",), match={"country": ("NZ", "AU")}, bake=hour),
        Phase("Production", ("production",), bake=hour),
    ), permissions={Action.ABORT: (MANAGER,)})


@pytest.fixture
def service(database: Database) -> ReleaseService:
    """The service on the test database with the regional pipeline."""
    return ReleaseService(database.uow, {"regional": regional()}, team())


@pytest.fixture
def views(service: ReleaseService) -> ServiceViews:
    """Two flags, published before any release."""
    service.create_flag(GATE, FlagKind.GATE, "regional", False, TRIGGERER, NOW)
    service.create_flag(CONFIG, FlagKind.CONFIG, "regional", {"title": "Pay"}, TRIGGERER, NOW)
    return ServiceViews(service, ENVIRONMENTS)


@pytest.fixture
def sync(views: ServiceViews) -> Iterator[GrpcSyncServer]:
    """The sync service on a free port."""
    server = GrpcSyncServer(views, "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clients(sync: GrpcSyncServer) -> Iterator[dict[str, OpenFeatureClient]]:
    """An OpenFeature client per environment, each on its own in-process flagd provider."""
    found = {}
    for env in ENVIRONMENTS:
        provider = FlagdProvider(resolver_type=ResolverType.IN_PROCESS, host="127.0.0.1",
                                 port=sync.port, selector=env, deadline_ms=5000)
        api.set_provider_and_wait(provider, domain=f"flagd-{env}")
        found[env] = api.get_client(domain=f"flagd-{env}")
    yield found
    api.shutdown()


def provider_answers(clients: dict[str, OpenFeatureClient]) -> dict[tuple[str, str, str], Any]:
    """What each provider serves every unit, flag by flag."""
    answers = {}
    for env, client in clients.items():
        for unit, attributes in UNITS:
            context = EvaluationContext(targeting_key=unit, attributes=attributes)
            answers[env, GATE, unit] = client.get_boolean_value(GATE, None, context)  # type: ignore[arg-type]
            answers[env, CONFIG, unit] = client.get_object_value(CONFIG, {}, context)
    return answers


def eval_answers(service: ReleaseService) -> dict[tuple[str, str, str], Any]:
    """What `release-bot eval` serves every unit, flag by flag.

    ReleaseService.evaluate (eval's use case) reads the flag per call; it is asked for a sample
    and its own two steps (one read, then core's serve) for the rest, to keep the test quick.
    """
    answers = {}
    for key in (GATE, CONFIG):
        flag, versions, release = service.flag(key)
        values = {number: version.value for number, version in versions.items()}
        for env in ENVIRONMENTS:
            for unit, attributes in UNITS:
                answers[env, key, unit] = serve(flag, values, release, env, unit, attributes)
            for unit, attributes in UNITS[:25]:
                assert service.evaluate(key, env, unit, attributes) == answers[env, key, unit]
    return answers


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until check() holds, as a pushed change needs a moment to arrive."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the change never reached the provider"
        time.sleep(0.05)


def act(service: ReleaseService, release: Release, action: Action, minutes: int) -> Release:
    command = Command(release.id or 0, action, MANAGER, phase=release.phase, reason="bad")
    return service.act(command, NOW + timedelta(minutes=minutes))


def test_every_state_of_a_release_reaches_the_provider_as_release_bot_serves_it(
        service: ReleaseService, views: ServiceViews, clients: dict[str, OpenFeatureClient]):
    seen: list[dict[tuple[str, str, str], Any]] = []

    def agree(state: str) -> None:
        views.publish()
        expected = eval_answers(service)
        eventually(lambda: provider_answers(clients) == expected)
        seen.append(expected)

    agree("before")
    gate = service.start_release(GATE, True, TRIGGERER, NOW)
    config = service.start_release(CONFIG, {"title": "Pay now"}, TRIGGERER, NOW)
    agree("staging")
    service.advance_due(NOW + timedelta(minutes=61))
    agree("10% of production")
    service.advance_due(NOW + timedelta(minutes=122))
    agree("10% and NZ/AU in production")
    service.advance_due(NOW + timedelta(minutes=183))
    act(service, service.release(config.id or 0), Action.ABORT, 184)
    agree("production for the gate, the config aborted")
    service.advance_due(NOW + timedelta(minutes=244))
    assert service.release(gate.id or 0).describe_state() == "completed"
    agree("completed")

    production = [{unit: a[env, key, unit] for env, key, unit in a if env == "production"
                   and key == GATE} for a in seen]
    canary = {unit for unit, on in production[2].items() if on}
    assert 60 < len(canary) < 140, "about 10% of production is in the canary"
    assert canary < {unit for unit, on in production[3].items() if on}, (
        "the canary stays inside the larger phase")
    assert all(production[4].values()) and all(production[5].values())
    assert not any(production[1].values())
    assert {a["production", CONFIG, "user-1"]["title"] for a in seen[4:]} == {"Pay"}, (
        "an aborted release serves the base again")


@pytest.fixture
def stub(sync: GrpcSyncServer) -> Iterator[Any]:
    """A raw sync client."""
    with grpc.insecure_channel(f"127.0.0.1:{sync.port}") as channel:
        yield sync_pb2_grpc.FlagSyncServiceStub(channel)


def test_fetch_all_flags_names_the_environment_by_header_or_field(stub: Any):
    by_header = stub.FetchAllFlags(sync_pb2.FetchAllFlagsRequest(),
                                   metadata=(("flagd-selector", "production"),))
    by_field = stub.FetchAllFlags(sync_pb2.FetchAllFlagsRequest(selector="production"))
    assert by_header == by_field
    flags = json.loads(by_header.flag_configuration)["flags"]
    assert flags[GATE]["variants"] == {"v1": False}


@pytest.mark.parametrize(("selector", "code", "sentence"), [
    ("", grpc.StatusCode.INVALID_ARGUMENT, "Name the environment as the selector"),
    ("dev", grpc.StatusCode.NOT_FOUND, "No pipeline names the environment 'dev'."),
])
def test_a_selector_that_names_no_environment_gets_one_sentence(stub: Any, selector: str,
                                                                code: grpc.StatusCode,
                                                                sentence: str):
    with pytest.raises(grpc.RpcError) as fetch:
        stub.FetchAllFlags(sync_pb2.FetchAllFlagsRequest(selector=selector))
    with pytest.raises(grpc.RpcError) as stream:
        next(stub.SyncFlags(sync_pb2.SyncFlagsRequest(selector=selector)))
    for error in (fetch.value, stream.value):
        assert error.code() is code
        assert error.details().startswith(sentence)


def test_a_port_in_use_is_one_sentence(views: ServiceViews):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = GrpcSyncServer(views, "127.0.0.1", port)
        with pytest.raises(DomainError, match=rf"^The flagd sync port 127.0.0.1:{port} cannot be "
                                          "bound: is it in use, and is FLAGD_SYNC_HOST an "
                                          r"address of this machine\?$"):
            server.start()
        server.stop()
