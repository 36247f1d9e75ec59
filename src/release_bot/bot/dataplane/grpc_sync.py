"""flagd's sync protocol (`flagd.sync.v1.FlagSyncService`) over gRPC, for in-process providers.

`SyncFlags` sends an environment's whole flagd document at once and again on every change;
`FetchAllFlags` answers with it once. The request's selector (the `flagd-selector` header, or
the deprecated request field) is the environment's name. The stock provider sends no
credentials, so the port binds FLAGD_SYNC_HOST (127.0.0.1 unless told otherwise).

Streams are served by one asyncio loop; one watcher thread per environment in use waits on the
snapshot and hands each new document (rendered once) to every stream of that environment.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import grpc
from openfeature.schemas.protobuf.flagd.sync.v1 import sync_pb2, sync_pb2_grpc

from release_bot.bot.dataplane.flagd import ServedViews, flagd_json
from release_bot.core.errors import DomainError

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.25
SELECTOR_HEADER = "flagd-selector"


class Broadcast:
    """Each environment's latest document and the queues of the streams that follow it."""

    def __init__(self, views: ServedViews, loop: asyncio.AbstractEventLoop) -> None:
        self.views = views
        self.loop = loop
        self.latest: dict[str, str] = {}
        self.followers: dict[str, set[asyncio.Queue[str]]] = {}
        self.stopping = threading.Event()
        self.watchers: list[threading.Thread] = []

    def document(self, environment: str) -> str | None:
        """The environment's document now (None for an environment no pipeline names)."""
        if environment in self.latest:
            return self.latest[environment]
        view = self.views.view(environment)
        if view is None:
            return None
        self.latest[environment] = flagd_json(view)
        watcher = threading.Thread(target=self._watch, args=(environment, view.etag),
                                   name=f"flagd-sync-{environment}", daemon=True)
        self.watchers.append(watcher)
        watcher.start()
        return self.latest[environment]

    def follow(self, environment: str) -> asyncio.Queue[str]:
        """A queue that holds the environment's newest document not yet taken."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        self.followers.setdefault(environment, set()).add(queue)
        return queue

    def leave(self, environment: str, queue: asyncio.Queue[str]) -> None:
        """Stop handing documents to a stream's queue."""
        self.followers.get(environment, set()).discard(queue)

    def stop(self) -> None:
        """End the watcher threads."""
        self.stopping.set()
        for watcher in self.watchers:
            watcher.join()

    def _watch(self, environment: str, etag: str) -> None:
        while not self.stopping.is_set():
            view = self.views.wait_for_change(environment, etag, WATCH_SECONDS)
            if view.etag != etag:
                etag = view.etag
                self.loop.call_soon_threadsafe(self._publish, environment, flagd_json(view))

    def _publish(self, environment: str, document: str) -> None:
        self.latest[environment] = document
        for queue in self.followers.get(environment, ()):
            if queue.full():
                queue.get_nowait()      # a slow stream skips to the newest document
            queue.put_nowait(document)


Context = grpc.aio.ServicerContext[Any, Any]


class FlagSync(sync_pb2_grpc.FlagSyncServiceServicer):
    """The FlagSyncService methods, answering from the broadcast."""

    def __init__(self, broadcast: Broadcast) -> None:
        self.broadcast = broadcast

    async def SyncFlags(  # noqa: N802 — the protocol's method name
        self, request: sync_pb2.SyncFlagsRequest, context: Context
    ) -> AsyncIterator[sync_pb2.SyncFlagsResponse]:
        """The environment's document now, then again after every change."""
        environment, document = await self._resolve(request.selector, context)
        queue = self.broadcast.follow(environment)
        try:
            yield sync_pb2.SyncFlagsResponse(flag_configuration=document)
            while True:
                yield sync_pb2.SyncFlagsResponse(flag_configuration=await queue.get())
        finally:
            self.broadcast.leave(environment, queue)

    async def FetchAllFlags(  # noqa: N802 — the protocol's method name
        self, request: sync_pb2.FetchAllFlagsRequest, context: Context
    ) -> sync_pb2.FetchAllFlagsResponse:
        """The environment's document now."""
        _, document = await self._resolve(request.selector, context)
        return sync_pb2.FetchAllFlagsResponse(flag_configuration=document)

    async def GetMetadata(  # noqa: N802 — the protocol's method name
        self, request: sync_pb2.GetMetadataRequest, context: Context
    ) -> sync_pb2.GetMetadataResponse:
        """Deprecated by flagd in favour of sync_context; providers carry on without it."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetMetadata is deprecated by flagd.")

    async def _resolve(self, field: str, context: Context) -> tuple[str, str]:
        """The selected environment and its document, or the call ends with one sentence."""
        headers = dict(context.invocation_metadata() or ())
        environment = str(headers.get(SELECTOR_HEADER) or field).strip()
        if not environment:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "Name the environment as the selector (the flagd-selector "
                                "header or the selector field), such as production.")
        document = self.broadcast.document(environment)
        if document is None:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"No pipeline names the environment {environment!r}.")
        return environment, document


class GrpcSyncServer:
    """The sync service on host:port (0 picks a free port), served from a background thread."""

    def __init__(self, views: ServedViews, host: str, port: int) -> None:
        self.views = views
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._broadcast = Broadcast(views, self._loop)
        self._server: grpc.aio.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve; `.port` is the bound port once this returns."""
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="flagd-sync",
                                        daemon=True)
        self._thread.start()
        started.wait()
        if self._server is None:
            raise DomainError(f"The flagd sync port {self.host}:{self.port} cannot be bound: is it "
                          "in use, and is FLAGD_SYNC_HOST an address of this machine?")
        log.info("flagd sync (gRPC) listening on %s:%s", self.host, self.port)

    def stop(self) -> None:
        """End every stream and the server."""
        if self._server is not None and self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(grace=None), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
        self._broadcast.stop()

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        server = grpc.aio.server()
        sync_pb2_grpc.add_FlagSyncServiceServicer_to_server(FlagSync(self._broadcast), server)
        try:
            self.port = server.add_insecure_port(f"{self.host}:{self.port}")
            self._loop.run_until_complete(server.start())
        except RuntimeError:
            started.set()
            return
        self._server = server
        started.set()
        self._loop.run_forever()
