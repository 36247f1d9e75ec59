"""A real Prometheus server (Debian's `prometheus` binary) scraping an exporter the test serves.

The exporter is an http.server on port 0 whose counters the test raises; Prometheus runs with a
temporary config and TSDB directory on a free port, scraping it every second. Outside CI the
tests that need it are skipped when the binary is missing; with CI=true they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

APP = "checkout"
SCRAPE_SECONDS = 1


class Exporter:
    """/metrics in Prometheus' text format: request and error counters the test raises."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts = {"http_requests_total": 0, "http_errors_total": 0}
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 — http.server's name
                body = exporter.text().encode()
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def raise_counter(self, name: str, by: int) -> None:
        """Count more requests or errors."""
        with self.lock:
            self.counts[name] += by

    def text(self) -> str:
        """The exposition: each counter with its HELP, TYPE and the app label."""
        with self.lock:
            counts = dict(self.counts)
        return "".join(f"# HELP {name} {name.split('_')[1]} served\n# TYPE {name} counter\n"
                       f'{name}{{app="{APP}"}} {value}\n' for name, value in counts.items())

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    """A prometheus process scraping one target; `url` is its HTTP API's base."""

    def __init__(self, binary: str, target_port: int, directory: Path) -> None:
        port = _free_port()
        config = directory / "prometheus.yml"
        config.write_text(
            f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: exporter\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        )
        self.log = directory / "prometheus.log"
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={directory / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT,
            )

    def query(self, expr: str) -> list[Any]:
        """The result vector of an instant query."""
        query = urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{query}", timeout=5) as answer:
            reply = json.load(answer)
        assert reply["status"] == "success", reply
        return list(reply["data"]["result"])

    def value(self, expr: str) -> float | None:
        """The one number an instant query yields, None when it yields no series."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_until_scraping(self, timeout: float = 30) -> None:
        """Wait until Prometheus answers and has scraped the exporter at least once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            try:
                if self.value('up{job="exporter"}') == 1:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"prometheus did not scrape in time: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Terminate the process (kill it if it lingers)."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prometheus_binary() -> str:
    """The prometheus binary; skipped without one, except in CI where it must be there."""
    found = shutil.which("prometheus")
    if found is None:
        message = ("the prometheus binary is not installed (apt-get install prometheus, as "
                   ".ci/run does)")
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true, so this is an error", pytrace=False)
        pytest.skip(message)
    return found


@contextmanager
def scraped_exporter(directory: Path) -> Iterator[tuple[Prometheus, Exporter]]:
    """A running Prometheus that has scraped a fresh exporter at least once."""
    binary = prometheus_binary()
    exporter = Exporter()
    server = Prometheus(binary, exporter.port, directory)
    try:
        server.wait_until_scraping()
        yield server, exporter
    finally:
        server.stop()
        exporter.close()


def _free_port() -> int:
    """A port nobody listens on now (Prometheus cannot be told to pick one itself)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
