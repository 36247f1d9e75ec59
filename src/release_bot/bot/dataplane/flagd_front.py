"""The flagd front of `serve`: flagd.json on the HTTP port, and the gRPC sync when asked for.

`Runtime` builds it over the data plane's snapshot, adds `routes()` to the HTTP port and
starts and stops it with the other background work.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from release_bot.bot.dataplane.flagd import ServedViews
from release_bot.bot.dataplane.flagd_routes import KeyCheck, flagd_routes
from release_bot.bot.dataplane.grpc_sync import GrpcSyncServer


class FlagdFront:
    """flagd definitions over HTTP always; over gRPC on `sync_port` when it is set."""

    def __init__(self, views: ServedViews, keys: KeyCheck | None, sync_host: str,
                 sync_port: int | None) -> None:
        self.views = views
        self.keys = keys
        self.sync = None if sync_port is None else GrpcSyncServer(views, sync_host, sync_port)

    def routes(self) -> list[BaseRoute]:
        """GET /environments/{env}/flagd.json."""
        return flagd_routes(self.views, self.keys)

    def start(self) -> None:
        """Start the gRPC sync, if there is one (DomainError says why it cannot bind)."""
        if self.sync is not None:
            self.sync.start()

    def stop(self) -> None:
        """Stop the gRPC sync, ending its streams."""
        if self.sync is not None:
            self.sync.stop()
