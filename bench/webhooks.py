"""Webhook delivery: events a second from the outbox to a local receiver, beside the floor.

The floor is the same receiver sent the same number of signed POSTs by as many threads, with
no database: signing and HTTP alone. Delivery adds claiming rows (in order per release and
endpoint), marking them sent, and reading each event back. Both run in this process against a
receiver that verifies every signature with `standardwebhooks`.
Target: delivery at least half the floor's rate.

    .venv/bin/python -m bench.webhooks [--releases 100] [--events 10]
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

from standardwebhooks import Webhook as Signer

from bench.common import backends, fresh_database, pipeline
from release_bot.bot.webhooks.delivery import WebhookDeliverer, post
from release_bot.core.models import Action, Command, FlagKind, Webhook
from release_bot.core.service import ReleaseService
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.outbox import Stream
from tests.support.samples import team
from tests.support.webhook_receiver import SECRET, Receiver

THREADS = 2  # as serve runs
SECRET_ENV = "BENCH_HOOK_SECRET"


def now() -> datetime:
    """The wall clock."""
    return datetime.now(UTC)


def floor(receiver: Receiver, count: int) -> float:
    """Signed POSTs a second, THREADS at a time, without a database."""
    signer = Signer(SECRET)
    body = '{"type":"release.paused","timestamp":"2030-01-01T00:00:00+00:00","data":{}}'
    left = iter(range(count))
    lock = threading.Lock()

    def send() -> None:
        while True:
            with lock:
                n = next(left, None)
            if n is None:
                return
            at = now()
            post(receiver.url, body, {"webhook-id": f"msg_{n}",
                                      "webhook-timestamp": str(int(at.timestamp())),
                                      "webhook-signature": signer.sign(f"msg_{n}", at, body)}, 10)

    started = time.perf_counter()
    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started)


def delivery(kind: str, receiver: Receiver, releases: int, events: int) -> tuple[float, int]:
    """Events a second from the outbox, and how many arrived."""
    with fresh_database(kind, "bench_webhooks") as database:
        hooked = replace(pipeline(), webhooks=(Webhook(receiver.url, SECRET_ENV),))
        service = ReleaseService(database.uow, {"bench": hooked}, team())
        for n in range(releases):
            service.create_flag(f"f{n}", FlagKind.GATE, "bench", False, "U0BENCH", now())
            release = service.start_release(f"f{n}", True, "U0BENCH", now())
            assert release.id is not None
            for step in range(events - 1):
                action = Action.PAUSE if step % 2 == 0 else Action.UNPAUSE
                service.act(Command(release.id, action, "U0BENCH", 0), now())
        before = len(receiver.delivered())
        bell = threading.Event()
        deliverer = WebhookDeliverer(SqlDeliveryQueue(database, Stream.WEBHOOKS), now, "bench",
                                     {SECRET_ENV: SECRET}, bell, threads=THREADS, interval=0.05)
        total = releases * events
        started = time.perf_counter()
        deliverer.start()
        while len(receiver.delivered()) - before < total:
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        deliverer.stop()
        return total / elapsed, len(receiver.delivered()) - before


def main() -> None:
    """Print delivery's rate beside the floor's, per database."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--releases", type=int, default=100)
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    total = args.releases * args.events
    with Receiver() as receiver:
        base = floor(receiver, total)
        print(f"floor (signed POSTs, {THREADS} threads, no database): {base:8.0f} /s")
        for kind in backends():
            rate, arrived = delivery(kind, receiver, args.releases, args.events)
            print(f"{kind:8} outbox → webhook ({total} events, {arrived} arrived): "
                  f"{rate:8.0f} /s  ({rate / base:.2f}× the floor)")


if __name__ == "__main__":
    main()
