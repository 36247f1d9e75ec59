"""flagd gRPC sync: how long a change takes to reach every open SyncFlags stream.

The server runs here over in-memory views of 200 flags (one in a live 10% release); another
process opens `--streams` SyncFlags streams and notes when each document arrives. Each change
is one flag's new value; its lag is publish → arrival at a stream (CLOCK_MONOTONIC is shared by
the processes). The floor is a FetchAllFlags round trip of the same document from the same
client process to the same server, in the same run. Target: lag p99 well under the data plane's
1 s freshness bound (the snapshot's own poll comes on top).

    .venv/bin/python -m bench.flagd_sync [--streams 200] [--changes 40] [--every 0.25]
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection

import grpc
from openfeature.schemas.protobuf.flagd.sync.v1 import sync_pb2, sync_pb2_grpc

from bench.common import percentile
from release_bot.bot.dataplane.flagd import flagd_json
from release_bot.bot.dataplane.grpc_sync import GrpcSyncServer
from release_bot.core.evaluation import served_flag
from release_bot.core.models import (
    FlagKind,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
)
from release_bot.core.served import ServedFlag
from tests.support.fakes import NOW, gate_flag

FLAGS = 200
REVISION = "bench_revision"


@dataclass(frozen=True)
class View:
    """One environment's flags at one revision."""

    flags: Mapping[str, ServedFlag]
    etag: str


class Views:
    """Synthetic views whose revision flag changes on every publish."""

    def __init__(self) -> None:
        canary = Pipeline("p", (Phase("Canary", ("production",), percentage=10),))
        release = Release(id=1, flag_key="flag_0", pipeline=canary, from_version=1,
                          to_version=2, triggered_by="U0BENCH", created_at=NOW,
                          state=ReleaseState.BAKING, phase=0,
                          phase_statuses=(PhaseStatus.BAKING,))
        base = {f"flag_{n}": served_flag(gate_flag(f"flag_{n}"), {1: False, 2: True},
                                         release if n == 0 else None, "production")
                for n in range(FLAGS)}
        self.base = base
        self.revision = 0
        self.current = self._at(0)
        self.changed = threading.Condition()

    def _at(self, revision: int) -> View:
        flag = ServedFlag(REVISION, FlagKind.CONFIG, 1, {"revision": revision})
        return View({**self.base, REVISION: flag}, str(revision))

    def publish(self) -> int:
        """The next revision, now served."""
        with self.changed:
            self.revision += 1
            self.current = self._at(self.revision)
            self.changed.notify_all()
            return self.revision

    def view(self, environment: str) -> View | None:
        return self.current if environment == "production" else None

    def wait_for_change(self, environment: str, etag: str, timeout: float) -> View:
        with self.changed:
            self.changed.wait_for(lambda: self.current.etag != etag, timeout)
            return self.current


def revision_of(document: str) -> int:
    """The revision a document carries (its last flag; parsed cheaply, the client is Python)."""
    found = re.search(r'"revision":(\d+)', document[document.rindex(f'"{REVISION}"'):])
    assert found is not None, "every document carries the revision flag"
    return int(found.group(1))


def subscribers(port: int, streams: int, fetches: int, out: Connection) -> None:
    """Open the streams, time some FetchAllFlags, then report arrivals when told to stop."""
    arrivals: list[tuple[int, float]] = []
    lock = threading.Lock()
    ready = threading.Barrier(streams + 1)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = sync_pb2_grpc.FlagSyncServiceStub(channel)
    calls = []

    def follow() -> None:
        call = stub.SyncFlags(sync_pb2.SyncFlagsRequest(selector="production"))
        calls.append(call)
        first = True
        try:
            for message in call:
                now = time.monotonic()
                if first:
                    first = False
                    ready.wait()
                    continue
                with lock:
                    arrivals.append((revision_of(message.flag_configuration), now))
        except grpc.RpcError:
            return

    threads = [threading.Thread(target=follow, daemon=True) for _ in range(streams)]
    for thread in threads:
        thread.start()
    ready.wait()
    trips = []
    for _ in range(fetches):
        start = time.monotonic()
        stub.FetchAllFlags(sync_pb2.FetchAllFlagsRequest(selector="production"))
        trips.append(time.monotonic() - start)
    out.send(("ready", trips))
    out.recv()
    for call in calls:
        call.cancel()
    out.send(("arrivals", arrivals))


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between changes")
    args = parser.parse_args()
    views = Views()
    server = GrpcSyncServer(views, "127.0.0.1", 0)
    server.start()
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    client = multiprocessing.get_context("spawn").Process(
        target=subscribers, args=(server.port, args.streams, 200, theirs))
    client.start()
    _, trips = ours.recv()
    published = {}
    for _ in range(args.changes):
        time.sleep(args.every)
        start = time.monotonic()
        published[views.publish()] = start
    time.sleep(1.0)
    ours.send("stop")
    _, arrivals = ours.recv()
    client.join()
    server.stop()
    lags = [at - published[revision] for revision, at in arrivals]
    expected = args.streams * args.changes

    def ms(values: list[float], p: float) -> str:
        return f"{percentile(values, p) * 1000:.1f}"

    size = len(flagd_json(views.current))
    print(f"flagd sync, {args.streams} streams, {args.changes} changes {args.every} s apart, "
          f"a {size:,}-byte document")
    print(f"  change → stream lag p50/p99/max: {ms(lags, 50)} / {ms(lags, 99)} / "
          f"{max(lags) * 1000:.1f} ms ({len(lags)} of {expected} arrivals; a slow stream "
          "skips to the newest)")
    print(f"  floor, FetchAllFlags round trip p50/p99: {ms(trips, 50)} / {ms(trips, 99)} ms")


if __name__ == "__main__":
    main()
