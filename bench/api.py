"""API throughput: `GET /api/v1/releases/{id}` and starting releases, beside a static 200.

One server (the runtime's uvicorn + Starlette app) serves the API routes and a route that only
answers 200 with a few bytes: that route is the floor, measured in the same run with the same
wrk settings. Every API request authenticates its token (one indexed read) and is counted
against its share (set high here); a start writes a version, a release, its history and its
notifications in one transaction, each on a flag of its own (flags are made beforehand).

    .venv/bin/python -m bench.api [--seconds 5] [--connections 8]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.common import backends, fresh_database, pipeline
from release_bot.bot.api.routes import routes
from release_bot.bot.runtime.http import HttpServer, build_http_app
from release_bot.core.models import Flag, FlagKind, Scope, Version
from release_bot.core.service import ReleaseService
from release_bot.core.tokens import TokenService
from release_bot.storage.database import Database
from tests.support.samples import StaticMembership

SECRET = "rbt_bench-secret"
THREADS = 4
FLAGS_PER_THREAD = 4000
START_SCRIPT = """
counter = 0
threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  wrk.headers["Content-Type"] = "application/json"  -- beside -H's Authorization
  local path = "/api/v1/flags/f" .. tid .. "_" .. counter .. "/releases"
  return wrk.format("POST", path, nil, '{"value": true}')
end
"""


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


async def static(request: Request) -> Response:
    """The floor: 200 and a few bytes, no work."""
    return PlainTextResponse("ok")


def _flags(database: Database) -> None:
    """A flag for every start the run may make, in one transaction."""
    now = utc_now()
    keys = ["shown"] + [f"f{thread}_{number}" for thread in range(THREADS)
                        for number in range(1, FLAGS_PER_THREAD + 1)]
    with database.uow() as uow:
        for key in keys:
            uow.flags.add(Flag(key, FlagKind.GATE, "bench", key, 1))
            uow.flags.add_version(key, Version(1, False, now, "bench"))
        uow.commit()


def wrk(url: str, seconds: int, connections: int, script: Path | None = None
        ) -> tuple[float, str, int]:
    """Requests per second, p99 latency and non-2xx answers of a wrk run."""
    command = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds}s",
               "--latency", "-H", f"Authorization: Bearer {SECRET}", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, p99, int(errors.group(1)) if errors else 0


def run(kind: str, seconds: int, connections: int) -> None:
    """Measure one backend."""
    with fresh_database(kind, "bench_api") as database:
        service = ReleaseService(database.uow, {"bench": pipeline()}, StaticMembership({}),
                                 reads=database.reads)
        tokens = TokenService(database.uow)
        tokens.create("bench", list(Scope), SECRET, "bench", utc_now())
        _flags(database)
        release = service.start_release("shown", True, "bench", utc_now())
        app = build_http_app([*routes(service, database, "1000000/second", utc_now),
                              Route("/static", static)])
        server = HttpServer(app, "127.0.0.1", 0)
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        try:
            floor = wrk(f"{base}/static", seconds, connections)
            show = wrk(f"{base}/api/v1/releases/{release.id}", seconds, connections)
            with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
                script.write(START_SCRIPT)
                script.flush()
                starts = wrk(f"{base}/", seconds, connections, Path(script.name))
        finally:
            server.stop()
    for name, (rate, p99, errors) in (("static 200 (floor)", floor),
                                      ("GET /api/v1/releases/{id}", show),
                                      ("POST /api/v1/flags/{key}/releases", starts)):
        note = f"  ({errors} non-2xx)" if errors else ""
        print(f"{kind:8} {name:36} {rate:9.0f} req/s  p99 {p99:>8}  "
              f"{rate / floor[0]:5.2f} of the floor{note}")


def main() -> None:
    """Measure every reachable backend."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    for kind in backends():
        run(kind, args.seconds, args.connections)


if __name__ == "__main__":
    main()
