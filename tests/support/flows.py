"""Steps the end-to-end Slack tests share: start a release, act on it, read what Slack was sent.

Everything goes through signed HTTP requests to the running bot (`RunningBot`); effects are read
from the fake Slack's recorded calls, the database (through the service) and the history.
Waiting is always on a condition (`fake.wait_for`, `bot.wait_until`), never a blind sleep.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId, InputId
from release_bot.core.models import Event, Outcome, Release, ReleaseState
from release_bot.storage import OutboxStatus
from tests.support.fake_slack import Call, FakeSlack
from tests.support.harness import CHANNEL, DEV, Response, RunningBot

FLAG = "new_checkout"
TS_METHODS = ("chat.postMessage", "chat.postEphemeral")


@dataclass(frozen=True)
class StatusMessage:
    """Where the fake Slack says a release's status message was posted."""

    release_id: int
    channel: str
    ts: str


# --- reading the fake Slack ------------------------------------------------------------------


def issued_ts(fake: FakeSlack, call: Call) -> str:
    """The `ts` the fake answered `call` with.

    The fake hands out ts values from one counter (100, 200, …) to chat.postMessage and
    chat.postEphemeral, in the order it records the calls; this mirrors it, so a test can
    compare the bot's later chat.update/thread_ts with what Slack really answered.
    """
    calls = fake.calls
    issued = [c for c in calls if c.method in TS_METHODS and c.status == 200]
    n = 100 * (issued.index(call) + 1)
    return f"{1_700_000_000 + n // 1_000_000}.{n % 1_000_000:06d}"


def api_calls(fake: FakeSlack, since: int = 0) -> list[Call]:
    """Web API calls (not response_url posts) recorded from index `since` on."""
    return [c for c in fake.calls[since:] if c.path.startswith("/api/")]


def status_posts(fake: FakeSlack) -> list[Call]:
    """Top-level chat.postMessage calls in the release channel (not replies, not DMs)."""
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if "thread_ts" not in c.params and c.params.get("channel") == CHANNEL
    ]


def thread_replies(fake: FakeSlack, status: StatusMessage, since: int = 0) -> list[Call]:
    """Replies in the status message's thread, from call index `since` on."""
    return [
        c
        for c in fake.calls[since:]
        if c.method == "chat.postMessage"
        and c.params.get("thread_ts") == status.ts
        and c.params.get("channel") == status.channel
    ]


def updates(fake: FakeSlack, since: int = 0) -> list[Call]:
    """chat.update calls from call index `since` on."""
    return [c for c in fake.calls[since:] if c.method == "chat.update"]


def ephemerals(fake: FakeSlack, since: int = 0) -> list[Call]:
    """Private replies: response_url posts and chat.postEphemeral calls, from `since` on."""
    return [c for c in fake.calls[since:] if c.method in ("response_url", "chat.postEphemeral")]


def wait_for_new(fake: FakeSlack, method: str, since: int, count: int = 1) -> list[Call]:
    """Wait until `count` calls to `method` arrived after index `since`; return those calls."""
    before = len([c for c in fake.calls[:since] if c.method == method])
    return fake.wait_for(method, before + count)[before:]


def texts(node: Any) -> str:
    """Every `text` and `value` string in a block tree, one per line (for assertions)."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("text", "value") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return "\n".join(found)


def control_values(blocks: Iterable[dict[str, Any]]) -> set[str]:
    """The encoded targets (`action:release:phase`) on a message's control elements."""
    values: set[str] = set()
    for block in blocks:
        if block.get("block_id") != BlockId.CONTROLS.value:
            continue
        for element in block.get("elements", []):
            if "value" in element:
                values.add(element["value"])
            values.update(option["value"] for option in element.get("options", []))
    return values


# --- reading the database --------------------------------------------------------------------


def pending_outbox(bot: RunningBot) -> int:
    """How many notifications still wait for delivery."""
    with bot.runtime.database.uow() as uow:
        return len(uow.outbox.list(OutboxStatus.PENDING))


def settle(bot: RunningBot) -> None:
    """Wait until every queued notification was delivered (its Web API calls are done)."""
    bot.wait_until(lambda: pending_outbox(bot) == 0)


def wait_state(
    bot: RunningBot, release_id: int, state: ReleaseState, phase: int | None = None
) -> Release:
    """Wait until the release is in `state` (at `phase`) and its notifications went out."""

    def reached() -> bool:
        release = bot.service.release(release_id)
        return release.state is state and (phase is None or release.phase == phase)

    bot.wait_until(reached)
    settle(bot)
    return bot.service.release(release_id)


def events(bot: RunningBot, flag: str = FLAG, since: int = 0) -> list[Event]:
    """The flag's history from event index `since` on, oldest first."""
    return list(bot.service.history(flag))[since:]


def attempts(
    bot: RunningBot, action: str, outcome: Outcome | None = None, flag: str = FLAG
) -> list[Event]:
    """History events of one action (and outcome)."""
    return [
        e
        for e in bot.service.history(flag)
        if e.action == action and (outcome is None or e.outcome is outcome)
    ]


# --- acting ----------------------------------------------------------------------------------


def start(bot: RunningBot, user: str = DEV, flag: str = FLAG) -> StatusMessage:
    """Create a gate and start a release of it with `/release start`; wait for its status."""
    bot.create_flag(flag)
    posted = len(status_posts(bot.fake))
    answer = bot.slash(user, f"start {flag} true")
    assert answer.status == 200
    bot.wait_until(lambda: len(status_posts(bot.fake)) > posted)
    post = status_posts(bot.fake)[posted]
    release = bot.service.releases(flag_key=flag)[0]
    assert post.params["channel"] == CHANNEL
    assert f"Release #{release.id}" in texts(post.params["blocks"])
    settle(bot)
    assert release.id is not None
    return StatusMessage(release.id, post.params["channel"], issued_ts(bot.fake, post))


def click(bot: RunningBot, user: str, target: str, status: StatusMessage) -> Response:
    """Click Approve on the status message."""
    return bot.click(user, ActionId.APPROVE.value, target, message_ts=status.ts)


def open_confirmation(
    bot: RunningBot, user: str, target: str, status: StatusMessage
) -> dict[str, Any]:
    """Pick an action from ⋯ and return the confirmation modal the bot opened."""
    opened = len(bot.fake.calls_to("views.open"))
    answer = bot.click(user, ActionId.MORE.value, target, message_ts=status.ts, overflow=True)
    assert answer.status == 200
    view: dict[str, Any] = bot.fake.wait_for("views.open", opened + 1)[opened].params["view"]
    return view


def reason_values(reason: str | None) -> dict[str, dict[str, Any]]:
    """The state of an abort form: its reason input, `null` as Slack sends it when left empty."""
    return {
        BlockId.REASON.value: {InputId.REASON.value: {"type": "plain_text_input", "value": reason}}
    }


def confirm(
    bot: RunningBot, user: str, target: str, status: StatusMessage, reason: str | None = None
) -> Response:
    """Pick an action from ⋯ and submit the confirmation modal (with a reason for abort)."""
    view = open_confirmation(bot, user, target, status)
    assert view["callback_id"] == CallbackId.CONFIRM_ACTION.value
    asks = any(b.get("block_id") == BlockId.REASON.value for b in view["blocks"])
    values = reason_values(reason) if asks else {}
    return bot.submit(user, view["callback_id"], view["private_metadata"], values)


def to_approval(bot: RunningBot, status: StatusMessage, user: str = DEV) -> Release:
    """Skip Staging's bake, so that the release waits for approval of Production canary."""
    answer = confirm(bot, user, f"skip:{status.release_id}:0", status)
    assert answer.status == 200
    return wait_state(bot, status.release_id, ReleaseState.AWAITING_APPROVAL, 1)
