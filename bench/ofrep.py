"""OFREP throughput and latency of `release-bot serve`, beside a static 200 of the same stack.

`release-bot serve` runs on a fresh SQLite database in a subprocess, without Slack; `wrk`
(Debian's package) loads it from another process. Figures, each the median of the rounds:
- single-flag evaluations/s at saturation (64 connections), on a flag live for 10% of units in
  production, every request with another targetingKey, so each one hashes its unit;
- the floor: GET of a static 200 from the same uvicorn + Starlette stack (one process, same
  settings) in the same run, interleaved with the evaluations; and the ratio;
- p50/p99 latency at half the saturated rate: wrk's `delay()` paces each of its connections
  (wrk2 is not in Debian), so the load is offered at a fixed rate instead of as fast as answers
  come back;
- bulk evaluations answered 304 (If-None-Match naming the current ETag) per second;
- the propagation lag: a flag created through the service in this process (one replica) until
  another process's `serve` answers it, p50/p99, on Postgres when reachable, else on SQLite.
Targets: >= 5,000 evaluations/s and >= 0.6 x the floor on 2 cores; lag p99 <= 1 s.

    .venv/bin/python -m bench.ofrep [--rounds 3] [--seconds 5] [--lag-samples 100]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.common import fresh_database, percentile, postgres_reachable
from release_bot.bot.runtime.compose import build_service
from release_bot.bot.runtime.pipelines_file import load_pipelines
from release_bot.core.models import FlagKind
from release_bot.storage.database import Database

PIPELINES = """
pipelines:
  bench:
    channel: C0BENCH
    phases:
      - name: Canary
        environments: [production]
        percentage: 10
        bake: 1h
      - name: Production
        environments: [production]
"""
CANARY = "canary_flag"
OTHER_FLAGS = 20
SINGLE = f"/environments/production/ofrep/v1/evaluate/flags/{CANARY}"
BULK = "/environments/production/ofrep/v1/evaluate/flags"
FLOOR = """\
import sys
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from release_bot.bot.runtime.http import HttpServer, build_http_app

async def static(request):
    return PlainTextResponse("ok")

HttpServer(build_http_app([Route("/static", static)]), "127.0.0.1", int(sys.argv[1])).run()
"""
UNIT_BODIES = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"context":{"targetingKey":"user-' .. n .. '"}}')
end
"""
PACED = UNIT_BODIES + "delay = function() return %d end\n"
BULK_304 = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["If-None-Match"] = '%s'
wrk.body = '{"context":{"targetingKey":"user-1"}}'
"""
PACE_MS = 10  # each paced connection sends one request every PACE_MS


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    """This environment without Slack credentials or release-bot settings, plus `extra`."""
    hidden = ("SLACK_", "DATABASE_URL", "RELEASE_BOT_", "PORT")
    kept = {k: v for k, v in os.environ.items() if not k.startswith(hidden)}
    return kept | extra


def wait_until_answering(port: int, path: str, process: subprocess.Popen[bytes]) -> None:
    """Wait for a GET of path to answer anything (RuntimeError if the process died first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(command: list[str], port: int, path: str, workdir: Path,
            env: dict[str, str]) -> Iterator[int]:
    """A server process, up until the block ends; yields its pid."""
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    try:
        wait_until_answering(port, path, process)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def serve(url: str) -> list[str]:
    """The command line of `release-bot serve` on a database (the rest from the environment)."""
    return [sys.executable, "-c", "import sys; from release_bot.bot.cli.commands import main; "
            "sys.exit(main())", "--database-url", url, "serve"]


def seed(database: Database, config: Path) -> None:
    """Flags of which one has a release live for 10% of production."""
    service = build_service(database, load_pipelines(config))
    now = datetime.now(UTC)
    for number in range(OTHER_FLAGS):
        service.create_flag(f"flag_{number:02d}", FlagKind.CONFIG, "bench",
                            {"limit": number}, "U0BENCH", now)
    service.create_flag(CANARY, FlagKind.GATE, "bench", False, "U0BENCH", now)
    service.start_release(CANARY, True, "U0BENCH", now)


def wrk(port: int, path: str, seconds: int, connections: int, script: str | None,
        workdir: Path, pid: int) -> dict[str, float]:
    """Run wrk once: requests/s, non-2xx/3xx answers, latency percentiles (ms) and the
    server's CPU microseconds per request (steadier than rates on a shared machine)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        lua = workdir / f"script-{abs(hash(script))}.lua"
        lua.write_text(script)
        command += ["-s", str(lua)]
    cpu = cpu_seconds(pid)
    text = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                          text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu
    requests = float(re.search(r"(\d+) requests in", text)[1])  # type: ignore[index]
    found: dict[str, float] = {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", text)[1]),  # type: ignore[index]
                               "errors": 0.0, "cpu_us": cpu / requests * 1e6}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if errors:
        found["errors"] = float(errors[1])
    for percent, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        found[f"p{percent}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return found


def current_etag(port: int) -> str:
    """The ETag of the bulk evaluation wrk's 304 script sends."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("POST", BULK, body=b'{"context":{"targetingKey":"user-1"}}',
                       headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return str(answer.getheader("ETag"))


def throughput(rounds: int, seconds: int) -> None:
    """Saturation, floor, paced latency and bulk 304s against serve on SQLite."""
    with tempfile.TemporaryDirectory() as folder, fresh_database("sqlite", "unused") as database:
        workdir = Path(folder)
        config = workdir / "pipelines.yml"
        config.write_text(PIPELINES)
        seed(database, config)
        url = database.engine.url.render_as_string(hide_password=False)
        port, floor_port = free_port(), free_port()
        env = environment(RELEASE_BOT_CONFIG=str(config), PORT=str(port))
        with (
            running(serve(url), port, "/healthz", workdir, env) as pid,
            running([sys.executable, "-c", FLOOR, str(floor_port)], floor_port, "/static",
                    workdir, environment()) as floor_pid,
        ):
            etag = current_etag(port)
            samples: dict[str, list[dict[str, float]]] = {"floor": [], "single": [], "bulk": []}
            for _ in range(rounds):
                samples["floor"].append(
                    wrk(floor_port, "/static", seconds, 64, None, workdir, floor_pid))
                samples["single"].append(
                    wrk(port, SINGLE, seconds, 64, UNIT_BODIES, workdir, pid))
                samples["bulk"].append(
                    wrk(port, BULK, seconds, 64, BULK_304 % etag, workdir, pid))
            rate, cpu = ({name: statistics.median(s[figure] for s in runs)
                          for name, runs in samples.items()} for figure in ("rate", "cpu_us"))
            target = rate["single"] / 2
            connections = max(1, round(target * PACE_MS / 1000))
            paced = [wrk(port, SINGLE, seconds * 2, connections, PACED % PACE_MS, workdir, pid)
                     for _ in range(rounds)]
    errors = sum(s["errors"] for runs in samples.values() for s in runs)
    print(f"SQLite, median of {rounds} rounds of {seconds} s, wrk: 1 thread, 64 connections")
    print(f"{'':30}{'req/s':>9}  {'x floor':>7}  {'server CPU/request':>19}  {'x floor':>7}")
    for name, label in (("floor", "static 200 (floor)"), ("single", "single-flag evaluations"),
                        ("bulk", "bulk evaluations, 304")):
        print(f"  {label:<28}{rate[name]:>9.0f}  {rate[name] / rate['floor']:>7.2f}"
              f"  {cpu[name]:>16.1f} us  {cpu['floor'] / cpu[name]:>7.2f}")
    print("  (target: evaluations >= 5000 req/s and >= 0.6 x floor; the CPU column is the rate "
          "one core would give, floor / evaluation)")
    offered = statistics.median(p["rate"] for p in paced)
    print(f"  at half load ({offered:.0f} req/s offered by {connections} paced connections): "
          f"p50 {statistics.median(p['p50'] for p in paced):.2f} ms, "
          f"p99 {statistics.median(p['p99'] for p in paced):.2f} ms")
    if errors:
        print(f"  !! {errors:.0f} answers were neither 2xx nor 3xx")


def propagation(samples: int) -> None:
    """Commit in this process → answered by another process's serve, p50/p99."""
    kind = "postgres" if postgres_reachable() else "sqlite"
    with tempfile.TemporaryDirectory() as folder, fresh_database(kind, "bench_ofrep") as database:
        workdir = Path(folder)
        config = workdir / "pipelines.yml"
        config.write_text(PIPELINES)
        service = build_service(database, load_pipelines(config))
        url = database.engine.url.render_as_string(hide_password=False)
        port = free_port()
        env = environment(RELEASE_BOT_CONFIG=str(config), PORT=str(port))
        lags = []
        with running(serve(url), port, "/healthz", workdir, env):
            connection = http.client.HTTPConnection("127.0.0.1", port)
            for number in range(samples):
                key = f"lag_{number}"
                time.sleep(random.uniform(0, 0.25))  # any moment of the other side's poll
                service.create_flag(key, FlagKind.GATE, "bench", True, "U0BENCH",
                                    datetime.now(UTC))
                committed = time.perf_counter()
                path = f"/environments/production/ofrep/v1/evaluate/flags/{key}"
                while True:
                    connection.request("POST", path, body=b"{}")
                    answer = connection.getresponse()
                    body = answer.read()
                    if answer.status == 200 and json.loads(body)["value"] is True:
                        break
                    time.sleep(0.001)
                lags.append(time.perf_counter() - committed)
            connection.close()
    print(f"propagation ({kind}, {samples} flags created by this process, polled on serve): "
          f"p50 {percentile(lags, 50) * 1000:.0f} ms, p99 {percentile(lags, 99) * 1000:.0f} ms "
          "(target p99 <= 1000 ms)")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--lag-samples", type=int, default=100)
    arguments = parser.parse_args()
    throughput(arguments.rounds, arguments.seconds)
    propagation(arguments.lag_samples)


if __name__ == "__main__":
    main()
