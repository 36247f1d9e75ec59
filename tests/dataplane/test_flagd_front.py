"""The flagd front: flagd.json on the HTTP port always, the gRPC sync only with a port."""

from __future__ import annotations

import json

import grpc
import requests
from openfeature.schemas.protobuf.flagd.sync.v1 import sync_pb2, sync_pb2_grpc

from release_bot.bot.dataplane.flagd_front import FlagdFront
from release_bot.bot.runtime.http import HttpServer, build_http_app
from release_bot.core.models import FlagKind, Phase, Pipeline
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.flagd_views import ServiceViews
from tests.support.samples import NOW, TRIGGERER, team


def views_of(database: Database) -> ServiceViews:
    service = ReleaseService(database.uow, {"p": Pipeline("p", (Phase("All", ("staging",)),))},
                             team())
    service.create_flag("new_checkout", FlagKind.GATE, "p", True, TRIGGERER, NOW)
    return ServiceViews(service, ("staging",))


def test_with_a_sync_port_both_sources_serve_the_same_document(database: Database):
    front = FlagdFront(views_of(database), None, "127.0.0.1", 0)
    http = HttpServer(build_http_app(front.routes()), "127.0.0.1", 0)
    http.start()
    front.start()
    try:
        assert front.sync is not None
        over_http = requests.get(f"{http.base_url}/environments/staging/flagd.json", timeout=5)
        with grpc.insecure_channel(f"127.0.0.1:{front.sync.port}") as channel:
            stub = sync_pb2_grpc.FlagSyncServiceStub(channel)
            over_grpc = stub.FetchAllFlags(sync_pb2.FetchAllFlagsRequest(selector="staging"))
        assert json.loads(over_grpc.flag_configuration) == over_http.json()
        assert over_http.json()["flags"]["new_checkout"]["defaultVariant"] == "v1"
    finally:
        front.stop()
        http.stop()


def test_without_a_sync_port_there_is_no_grpc_server(database: Database):
    front = FlagdFront(views_of(database), None, "127.0.0.1", None)
    front.start()
    front.stop()
    assert front.sync is None and len(front.routes()) == 1
