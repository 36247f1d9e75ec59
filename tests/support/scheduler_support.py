"""Run `release-bot serve` as a real subprocess against the fake Slack, and read what Slack got.

Everything waits on a condition with a deadline (`wait_until`, `FakeSlack.wait_for`), never on a
blind sleep. Every process a test starts is killed when the test ends, whatever happened.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from release_bot.bot.runtime.pipelines_file import PipelinesConfig, load_pipelines
from release_bot.bot.runtime.static_membership import StaticMembership
from release_bot.core.models import Event, FlagKind, Outcome, Release
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from release_bot.storage.delivery import SqlDeliveryQueue
from release_bot.storage.outbox import OutboxMessage, OutboxStatus
from tests.support.fake_slack import BOT_TOKEN, Call, FakeSlack
from tests.support.harness import CHANNEL as CHANNEL  # re-exported for the tests
from tests.support.harness import SIGNING_SECRET, SlackRequests

ALICE, BOB, DEV, MGR = "U0ALICE", "U0BOB", "U0DEV", "U0MGR"
GROUPS = {"S0APPR": ("approvers", [ALICE, BOB]), "S0MGR": ("managers", [MGR])}
BOOT_SECONDS = 30.0


def now() -> datetime:
    """The wall clock, in UTC, as the bot reads it."""
    return datetime.now(UTC)


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str | Callable[[], str]
) -> None:
    """Poll a condition that background work makes true; AssertionError naming it if it does not.

    `what` may be a callable, so that a description with the state at the time of failure
    (the fake's calls, a process's log) is only built then.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what() if callable(what) else what}")
        time.sleep(0.02)


def once_per_database(database: Database) -> None:
    """Skip a test of something that does not depend on the database on all but SQLite."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("this does not depend on the database; once is enough")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_groups(fake: FakeSlack) -> None:
    """The user groups the tests' pipelines name: approvers and managers."""
    for group_id, (handle, users) in GROUPS.items():
        fake.set_group(group_id, handle, users)


def write_pipelines(directory: Path, text: str) -> Path:
    """A pipelines file in directory."""
    path = directory / "pipelines.yml"
    path.write_text(text)
    return path


def service_on(database: Database, pipelines: Path, **faster: timedelta) -> ReleaseService:
    """The service the CLI would build on the same database and pipelines file.

    `faster` sets timings of every pipeline below what a file may say (`remind_every=2s`, where
    a file needs at least 1m): a release keeps the pipeline it started with, so a serve process
    then reminds at that pace, and a test sees reminders in seconds.
    """
    config: PipelinesConfig = load_pipelines(pipelines)
    chosen = {name: replace(p, **faster) for name, p in config.pipelines.items()}
    return ReleaseService(database.uow, chosen, StaticMembership(config.members))


def start_release(
    service: ReleaseService, key: str, pipeline: str = "standard", starter: str = DEV
) -> Release:
    """Create a gate and start a release of it, as `release-bot flag create` + `release start`."""
    service.create_flag(key, FlagKind.GATE, pipeline, False, starter, now())
    return service.start_release(key, True, starter, now())


# --- the serve subprocess ---------------------------------------------------------------------


def _release_bot() -> list[str]:
    """The installed console script next to this interpreter (as a user runs it)."""
    script = Path(sys.executable).with_name("release-bot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from release_bot.bot.cli.commands import main; main()"]


class ServeProcess:
    """One `release-bot serve` subprocess on a free port, its output kept in files."""

    def __init__(self, workdir: Path, env: Mapping[str, str], name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SLACK_") and key not in ("DATABASE_URL", "PORT")
        }
        environment.update(env)
        environment["PORT"] = str(self.port)
        environment["PYTHONUNBUFFERED"] = "1"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            # cwd=workdir: no stray .env of the checkout is read
            self.process = subprocess.Popen(
                [*_release_bot(), "serve"], cwd=workdir, env=environment, stdout=out, stderr=err
            )

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def stderr(self) -> str:
        """Everything the process wrote to stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    def describe(self) -> str:
        """The tail of stderr, for assertion messages."""
        return f"{self.name} (pid {self.pid}) stderr:\n{self.stderr()[-4000:]}"

    def wait_ready(self, timeout: float = BOOT_SECONDS) -> ServeProcess:
        """Block until GET /healthz answers 200; AssertionError if the process dies or hangs."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"serve exited with {self.process.returncode} before it was ready; "
                    + self.describe()
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve not ready within {timeout}s; " + self.describe())
            time.sleep(0.05)

    def signal(self, signum: int) -> None:
        """Send a signal to the process."""
        self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def wait(self, timeout: float) -> int:
        """The exit code; subprocess.TimeoutExpired if it is still running after timeout."""
        return self.process.wait(timeout)

    def click(self, fake: FakeSlack, user: str, action_id: str, value: str, ts: str) -> int:
        """A signed block_actions click on a button of the status message at ts."""
        return SlackRequests(self.url, fake).click(user, action_id, value, message_ts=ts).status


@dataclass
class ServeFactory:
    """Starts `release-bot serve` processes for one test and kills every one of them after it."""

    workdir: Path
    fake: FakeSlack
    database_url: str
    pipelines: Path

    def __post_init__(self) -> None:
        self.started: list[ServeProcess] = []

    def __call__(self, name: str = "serve", ready: bool = True, **env: str) -> ServeProcess:
        """Start one more replica (waiting until it serves, unless ready=False).

        Keyword arguments override its environment (SLACK_BOT_TOKEN="…").
        """
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.fake.base_url,
            "DATABASE_URL": self.database_url,
            "RELEASE_BOT_CONFIG": str(self.pipelines),
            **env,
        }
        process = ServeProcess(self.workdir, env, f"{name}-{len(self.started)}")
        self.started.append(process)
        return process.wait_ready() if ready else process

    def kill_all(self) -> None:
        """SIGKILL whatever is still running."""
        for process in self.started:
            process.kill()


# --- reading what the fake Slack was sent ------------------------------------------------------


def delivered(fake: FakeSlack, method: str = "chat.postMessage") -> list[Call]:
    """Calls to method that Slack accepted (HTTP 200, ok) — failed attempts left out."""
    return [c for c in fake.calls_to(method) if c.status == 200]


def top_level_posts(fake: FakeSlack, channel: str | None = None) -> list[Call]:
    """Accepted channel posts that are not thread replies (status messages)."""
    return [
        c
        for c in delivered(fake)
        if "thread_ts" not in c.params
        and c.params.get("channel", "").startswith("C")
        and (channel is None or c.params.get("channel") == channel)
    ]


def replies_in(fake: FakeSlack, ts: str) -> list[Call]:
    """Accepted replies in the thread of the message at ts, oldest first."""
    return [c for c in delivered(fake) if c.params.get("thread_ts") == ts]


def direct_messages(fake: FakeSlack, user: str) -> list[Call]:
    """Accepted chat.postMessage calls to a user id (the bot's DM with them)."""
    return [c for c in delivered(fake) if c.params.get("channel") == user]


def updates_of(fake: FakeSlack, ts: str) -> list[Call]:
    """Accepted chat.update calls of the message at ts."""
    return [c for c in delivered(fake, "chat.update") if c.params.get("ts") == ts]


def is_broadcast(call: Call) -> bool:
    """True when a thread reply is also shown in the channel."""
    return str(call.params.get("reply_broadcast", "")).lower() in ("1", "true")


def button_value(call: Call, action_id: str) -> str | None:
    """The value of the button with action_id in a message's blocks, if it has one."""
    for block in call.params.get("blocks") or []:
        for element in block.get("elements", []) if isinstance(block, dict) else []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(element.get("value"))
    return None


def status_ts(database: Database, release_id: int) -> str | None:
    """The ts of the release's status message, once the bot has posted it."""
    where = SqlDeliveryQueue(database).status_message(release_id)
    return None if where is None else where[1]


def outbox(database: Database, status: OutboxStatus | None = None) -> list[OutboxMessage]:
    """The outbox rows (optionally of one status), oldest first."""
    with database.uow() as uow:
        return list(uow.outbox.list(status))


def ok_timer_events(service: ReleaseService, key: str) -> list[Event]:
    """The OK `timer` events of a flag's history: each is one bake that ended."""
    return [e for e in service.history(key) if e.action == "timer" and e.outcome is Outcome.OK]


def texts(calls: Iterable[Call]) -> list[str]:
    """The text of each call."""
    return [str(c.params.get("text", "")) for c in calls]


def timeline(fake: FakeSlack) -> str:
    """Every call to the fake, one a line with seconds since the first: for failure messages."""
    calls = fake.calls
    start = calls[0].at if calls else 0.0
    lines = []
    for c in calls:
        where = c.params.get("channel", "")
        thread = c.params.get("thread_ts", "")
        text = str(c.params.get("text", ""))[:60]
        lines.append(f"{c.at - start:7.2f} {c.status} {c.method} {where} {thread} {text}")
    return "\n".join(lines)
