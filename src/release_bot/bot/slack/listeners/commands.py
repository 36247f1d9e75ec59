"""The `/release` slash command: help, list, status, history and start, answered privately."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.errors import lazily
from release_bot.bot.slack.ids import HistoryPage
from release_bot.bot.slack.replies import Where, open_modal, tell, where_of
from release_bot.bot.slack.typed import flag_key, flag_value, release_number
from release_bot.bot.slack.views import (
    help_blocks,
    history_blocks,
    list_blocks,
    start_modal,
    status_blocks,
    status_text,
)
from release_bot.bot.slack.views.texts import code
from release_bot.core.errors import NotFound
from release_bot.core.models import Release
from release_bot.core.sentences import say

HELP_TEXT = "Usage: /release help | list | status [ID|FLAG] | history FLAG | start FLAG VALUE"


@dataclass(frozen=True)
class Invocation:
    """One `/release` call: who typed it where, the words after the subcommand, how to answer."""

    ctx: SlackContext
    where: Where
    args: list[str]
    trigger_id: str | None
    client: WebClient

    @property
    def user(self) -> str:
        """Who typed the command."""
        return self.where.user

    def reply(self, text: str, blocks: Sequence[Block] = ()) -> None:
        """Answer only the person who typed the command."""
        tell(self.client, self.where, text, [b.to_dict() for b in blocks] or None)


def release_command(release_bot: SlackContext, command: dict[str, Any], body: dict[str, Any],
                    context: BoltContext, client: WebClient) -> None:
    """`/release WORD …`: the subcommand WORD names; the help for anything else."""
    words = (command.get("text") or "").split(maxsplit=2)
    name, args = (words[0].lower(), words[1:]) if words else ("help", [])
    call = Invocation(release_bot, where_of(body, context), args, command.get("trigger_id"),
                      client)
    subcommand, arities = SUBCOMMANDS.get(name, (None, range(0)))
    if subcommand is None or len(args) not in arities:
        prefix = "" if name == "help" else f"I don't know {code(f'/release {name}', 40)}. "
        call.reply(prefix + HELP_TEXT, help_blocks())
    else:
        subcommand(call)


def answer_list(call: Invocation) -> None:
    """`/release list`: the active releases."""
    snaps = [call.ctx.snapshot(r) for r in call.ctx.service.releases(active_only=True)]
    call.reply(f"{len(snaps)} active release(s)", list_blocks(snaps, call.ctx.clock()))


def answer_status(call: Invocation) -> None:
    """`/release status [ID|FLAG]`: one release's status message, or the list without either."""
    if not call.args:
        answer_list(call)
        return
    snap = call.ctx.snapshot(find_release(call.ctx, call.args[0]))
    call.reply(status_text(snap), status_blocks(snap, call.ctx.clock()))


def answer_history(call: Invocation) -> None:
    """`/release history FLAG`: the first page of what happened to the flag."""
    show_history(call.ctx, call.client, call.where, HistoryPage(flag_key(call.args[0]), 1))


def start_release(call: Invocation) -> None:
    """`/release start FLAG VALUE` starts a release; without a value, the start form opens."""
    if len(call.args) < 2:
        initial = flag_key(call.args[0]) if call.args else None
        form = start_modal([f.key for f in call.ctx.service.flags()], initial)
        open_modal(call.client, call.trigger_id, form, "the start form",
                   "try again, or use `/release start FLAG VALUE`.")
        return
    key, value = flag_key(call.args[0]), call.args[1]
    release = call.ctx.service.start_release(key, flag_value(value), call.user, call.ctx.clock())
    call.ctx.kick_delivery()
    channel = release.pipeline.channel
    call.reply(f"Started release #{release.id} of `{key}`"
               f"{f' — follow it in <#{channel}>' if channel else ''}.")


SUBCOMMANDS: dict[str, tuple[Callable[[Invocation], None], range]] = {
    "list": (answer_list, range(0, 1)),
    "status": (answer_status, range(0, 3)),
    "history": (answer_history, range(1, 2)),
    "start": (start_release, range(0, 3)),
}


def show_history(ctx: SlackContext, client: WebClient, where: Where, page: HistoryPage,
                 replace: bool = False) -> None:
    """A page of a flag's history, latest first, answered privately (or in place of a page)."""
    events = list(reversed(ctx.service.history(page.flag_key)))
    blocks = history_blocks(page.flag_key, events, page.page)
    tell(client, where, f"History of {page.flag_key}", [b.to_dict() for b in blocks],
         replace=replace)


def find_release(ctx: SlackContext, ref: str) -> Release:
    """A release by `#id`/id, or the latest release of a flag key."""
    number = release_number(ref.strip())
    if number is not None:
        return ctx.service.release(number)
    key = flag_key(ref.strip())
    releases = ctx.service.releases(flag_key=key)
    if not releases:
        ctx.service.flag(key)
        raise NotFound(say("{key:flag} has never been released.", key=key))
    return releases[0]


def register(app: App) -> None:
    """Attach `/release`: it acks at once and answers afterwards."""
    lazily(app.command("/release"), release_command)
