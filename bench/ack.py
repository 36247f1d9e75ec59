"""Approve-click latency: HTTP response (ack) and click → chat.update, with 1,000 active releases.

Side by side with a bare Bolt app in its default configuration that only acks, served the same
way in the same run. Clicks go one at a time (the next once the previous one's chat.update has
arrived), so the figures are latencies, not a queue building up; delivery's pacing to Slack's
rate limits is off, as the fake enforces none. Also prints how many Web API calls one click
costs with a warm group cache.
Targets: ack p99 no worse than the bare app's; click → update p99 <= 100 ms; <= 3 calls a click.

    .venv/bin/python -m bench.ack [--releases 1000] [--clicks 1000]
"""

from __future__ import annotations

import argparse
import time

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bench.common import backends, fresh_database, percentile
from release_bot.bot.runtime.http import HttpServer, build_http_app
from release_bot.bot.slack.http import slack_routes
from release_bot.bot.slack.ids import ActionId, Target
from release_bot.bot.slack.pacing import Pacer
from release_bot.core.models import Action, FlagKind
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.harness import ALICE, DEV, SIGNING_SECRET, RunningBot, SlackRequests

PIPELINE = """
pipelines:
  gated:
    channel: C0BENCH
    permissions: {approve: ["@approvers"]}
    phases:
      - name: Production
        environments: [production]
        approval: {groups: ["@approvers"], required: 1}
        bake: 1h
"""


def ms(values: list[float], p: float) -> str:
    """A percentile in milliseconds."""
    return f"{percentile(values, p) * 1000:7.1f}"


def bare_app_latencies(fake: FakeSlack, clicks: int) -> list[float]:
    """Click latencies of a default Bolt app whose only listener acks."""
    app = App(token=BOT_TOKEN, signing_secret=SIGNING_SECRET,
              client=WebClient(token=BOT_TOKEN, base_url=fake.base_url))

    @app.action(ActionId.APPROVE.value)
    def only_ack(ack: Ack) -> None:
        ack()

    server = HttpServer(build_http_app(slack_routes(lambda: app, SIGNING_SECRET)), "127.0.0.1", 0)
    server.start()
    probe = SlackRequests(server.base_url, fake)
    try:
        return [timed_click(probe, 1)[0] for _ in range(clicks)]
    finally:
        server.stop()


def timed_click(requests: SlackRequests, release_id: int) -> tuple[float, float]:
    """(latency, monotonic time sent) of one Approve click on a release's phase 0."""
    sent = time.monotonic()
    answer = requests.click(ALICE, ActionId.APPROVE.value, Target(Action.APPROVE, release_id, 0)
                            .encode())
    assert answer.status == 200, answer.body
    return time.monotonic() - sent, sent


def bot_latencies(kind: str, releases: int, clicks: int) -> dict[str, object]:
    """Ack and click → update latencies of release-bot on one database."""
    with FakeSlack() as fake, fresh_database(kind, "bench_ack") as database:
        bot = RunningBot(fake, database, PIPELINE)
        # Slack's limits (about one post a second a channel, 50 updates a minute) would pace a
        # burst of a thousand clicks; this measures release-bot's own latency, so no pacing.
        bot.runtime.slack.deliverer.pacer = Pacer(sleep=lambda seconds: None)
        try:
            now = bot.runtime.slack.ctx.clock()
            ids = []
            for i in range(releases):
                key = f"flag_{i}"
                bot.service.create_flag(key, FlagKind.GATE, "gated", False, DEV, now)
                release = bot.service.start_release(key, True, DEV, now)
                ids.append(release.id)
            bot.runtime.slack.ctx.kick_delivery()
            fake.wait_for("chat.postMessage", releases, timeout=120)
            timed_click(bot, ids[0])  # warm the group cache
            fake.wait_for("chat.update", 1, timeout=10)
            fake.reset()
            acks: list[float] = []
            sent_at: dict[int, float] = {}
            for n, release_id in enumerate(ids[1:clicks + 1], start=1):
                latency, sent = timed_click(bot, release_id)
                acks.append(latency)
                sent_at[release_id] = sent
                fake.wait_for("chat.update", n, timeout=30)  # one click at a time
            updates = fake.wait_for("chat.update", len(sent_at), timeout=120)
            status_ts = bot.runtime.slack.deliverer.queue.status_message
            by_ts = {status_ts(rid)[1]: rid for rid in sent_at}  # type: ignore[index]
            to_update = [u.at - sent_at[by_ts[u.params["ts"]]] for u in updates]
            calls = [c for c in fake.calls if c.method != "response_url"]
            return {"acks": acks, "updates": to_update, "calls": len(calls) / len(sent_at)}
        finally:
            bot.close()


def main() -> None:
    """Print the latency table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--clicks", type=int, default=1000)
    args = parser.parse_args()
    clicks = min(args.clicks, args.releases - 1)
    with FakeSlack() as fake:
        bare = bare_app_latencies(fake, clicks)
    print(f"{args.releases} active releases, {clicks} Approve clicks (ms)")
    print(f"{'':<22}{'ack p50':>8}{'ack p99':>8}{'update p50':>11}{'update p99':>11}"
          f"{'calls/click':>12}")
    print(f"{'bare Bolt (ack only)':<22}{ms(bare, 50):>8}{ms(bare, 99):>8}{'-':>11}{'-':>11}"
          f"{'-':>12}")
    for kind in backends():
        result = bot_latencies(kind, args.releases, clicks)
        acks, updates = result["acks"], result["updates"]
        assert isinstance(acks, list) and isinstance(updates, list)
        print(f"{'release-bot ' + kind:<22}{ms(acks, 50):>8}{ms(acks, 99):>8}"
              f"{ms(updates, 50):>11}{ms(updates, 99):>11}{result['calls']:>12.2f}")


if __name__ == "__main__":
    main()
