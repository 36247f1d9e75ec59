"""The Alertmanager kill switch: webhook → release paused (committed before the 200), one alert
at a time, with 1,000 active releases; and one body of 100 alerts aborting 100 releases.

The floor is `GET /healthz` on the same server in the same run: the same HTTP stack, the same
thread hand-off and one database round trip. The Slack front is off (no notifications sent).

    .venv/bin/python -m bench.alerts [--releases 1000] [--alerts 500]
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request

from bench.common import backends, fresh_database, percentile
from release_bot.bot.runtime.serve import utc_now
from release_bot.bot.runtime.settings import Secret, Settings
from release_bot.core.models import FlagKind, ReleaseState
from tests.support.alertmanager import alert, webhook
from tests.support.harness import RunningServe

TOKEN = "bench-alert-token"
PIPELINE = """
pipelines:
  bench:
    channel: C0BENCH
    phases:
      - name: Production
        environments: [production]
        bake: 1h
"""
BATCH = 100


def ms(values: list[float], p: float) -> str:
    """A percentile in milliseconds."""
    return f"{percentile(values, p) * 1000:7.1f}"


def timed(request: urllib.request.Request) -> tuple[float, bytes]:
    """(seconds to the whole answer, its body) of one request, which must be answered 200."""
    sent = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read()
        assert answer.status == 200, body
    return time.perf_counter() - sent, body


def post(base_url: str, body: bytes) -> urllib.request.Request:
    """A webhook delivery as Alertmanager sends it."""
    return urllib.request.Request(
        f"{base_url}/alerts/alertmanager", data=body, method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})


def run(kind: str, releases: int, alerts: int) -> dict[str, list[float] | float]:
    """Latencies of health checks and single-alert pauses, and one 100-alert abort."""
    with fresh_database(kind, "bench_alerts") as database:
        serve = RunningServe(Settings(release_bot_alert_token=Secret(TOKEN)), database, PIPELINE)
        try:
            for i in range(releases):
                serve.service.create_flag(f"flag_{i}", FlagKind.GATE, "bench", False, "U0DEV",
                                          utc_now())
                serve.service.start_release(f"flag_{i}", True, "U0DEV", utc_now())
            health = urllib.request.Request(f"{serve.base_url}/healthz")
            floor = [timed(health)[0] for _ in range(alerts)]
            pauses = []
            for i in range(alerts):
                latency, body = timed(post(serve.base_url, webhook(
                    alert("Bench", f"flag_{i}", summary="errors"))))
                assert json.loads(body)["results"][0]["outcome"].endswith("paused."), body
                pauses.append(latency)
            batch = webhook(*(alert("Bench", f"flag_{i}", action="abort")
                              for i in range(alerts, alerts + BATCH)))
            whole, _ = timed(post(serve.base_url, batch))
            assert serve.service.release(alerts + 1).state is ReleaseState.ABORTED
            return {"floor": floor, "pauses": pauses, "batch": whole}
        finally:
            serve.close()


def main() -> None:
    """Print the latency table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=500)
    args = parser.parse_args()
    alerts = min(args.alerts, args.releases - BATCH)
    print(f"{args.releases} active releases; {alerts} single-alert deliveries (ms), then one "
          f"body of {BATCH} abort alerts")
    print(f"{'':<12}{'healthz p50':>12}{'p99':>8}{'pause p50':>10}{'p99':>8}"
          f"{f'{BATCH} aborts':>12}")
    for kind in backends():
        result = run(kind, args.releases, alerts)
        floor, pauses, batch = result["floor"], result["pauses"], result["batch"]
        assert isinstance(floor, list) and isinstance(pauses, list) and isinstance(batch, float)
        print(f"{kind:<12}{ms(floor, 50):>12}{ms(floor, 99):>8}{ms(pauses, 50):>10}"
              f"{ms(pauses, 99):>8}{batch * 1000:>10.0f} ms")


if __name__ == "__main__":
    main()
