"""The `/release` slash command: help, list, status, history, start."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId
from release_bot.bot.slack.views import (
    help_blocks,
    history_blocks,
    list_blocks,
    start_modal,
    start_values_from_view,
    status_blocks,
    status_text,
)
from release_bot.bot.slack.views.words import mrkdwn_of
from release_bot.core.errors import DomainError, InvalidInput, Kind, NotFound
from release_bot.core.models import Release

HELP_TEXT = "Usage: /release help | list | status [ID|FLAG] | history FLAG | start FLAG VALUE"


def _ack(ack: Ack) -> None:
    ack()


def parse_value(text: str) -> Any:
    """A value typed in Slack: JSON (`true`, `{"a": 1}`), with Slack's smart quotes undone."""
    cleaned = text.strip().replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError:
        raise InvalidInput(
            f"`{text}` is not JSON: a gate takes true or false, a config a JSON object."
        ) from None


def find_release(ctx: SlackContext, ref: str) -> Release:
    """A release by `#id`/id, or the latest release of a flag key."""
    ref = ref.strip().lstrip("#")
    if ref.isdigit():
        return ctx.service.release(int(ref))
    releases = ctx.service.releases(flag_key=ref)
    if not releases:
        ctx.service.flag(ref)
        raise NotFound(f"`{ref}` has never been released.")
    return releases[0]


class ReleaseCommand:
    """Runs one `/release` invocation and answers ephemerally."""

    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx

    def run(self, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Dispatch on the first word; unknown words and bad arguments get the help."""
        words = (command.get("text") or "").split(maxsplit=2)
        name, args = (words[0].lower(), words[1:]) if words else ("help", [])
        user = command["user_id"]
        try:
            if name == "list" and not args:
                self._list(respond)
            elif name == "status":
                self._status(respond, args[0] if args else None)
            elif name == "history" and len(args) == 1:
                self._history(respond, args[0], 0)
            elif name == "start" and len(args) < 2:
                self._open_start_form(client, respond, command.get("trigger_id"))
            elif name == "start":
                self._start(respond, user, args[0], args[1])
            else:
                prefix = "" if name == "help" else f"I don't know `/release {name}`. "
                respond(
                    text=prefix + HELP_TEXT,
                    response_type="ephemeral",
                    blocks=[b.to_dict() for b in help_blocks()],
                )
        except DomainError as error:
            respond(text=mrkdwn_of(error.sentence), response_type="ephemeral")

    def _open_start_form(self, client: WebClient, respond: Respond, trigger: str | None) -> None:
        problem = None if trigger else "the command had no trigger_id"
        if trigger:
            flags = [f.key for f in self.ctx.service.flags()]
            try:
                client.views_open(trigger_id=trigger, view=start_modal(flags).to_dict())
            except SlackApiError as error:
                problem = str(error.response.get("error"))
        if problem is not None:
            respond(
                text=f"Slack did not open the start form ({problem}) — try again, or use "
                "`/release start FLAG VALUE`.",
                response_type="ephemeral",
            )

    def _list(self, respond: Respond) -> None:
        releases = self.ctx.service.releases(active_only=True)
        snaps = [self.ctx.snapshot(r) for r in releases]
        respond(
            text=f"{len(snaps)} active release(s)",
            response_type="ephemeral",
            blocks=[b.to_dict() for b in list_blocks(snaps, self.ctx.clock())],
        )

    def _status(self, respond: Respond, ref: str | None) -> None:
        if ref is None:
            self._list(respond)
            return
        snap = self.ctx.snapshot(find_release(self.ctx, ref))
        respond(
            text=status_text(snap),
            response_type="ephemeral",
            blocks=[b.to_dict() for b in status_blocks(snap, self.ctx.clock())],
        )

    def _history(self, respond: Respond, flag_key: str, page: int, replace: bool = False) -> None:
        events = list(reversed(self.ctx.service.history(flag_key)))
        blocks = history_blocks(flag_key, events, page)
        respond(
            text=f"History of {flag_key}",
            response_type="ephemeral",
            replace_original=replace,
            blocks=[b.to_dict() for b in blocks],
        )

    def _start(self, respond: Respond, user: str, flag_key: str, value: str) -> None:
        release = self.ctx.service.start_release(
            flag_key, parse_value(value), user, self.ctx.clock()
        )
        self.ctx.kick_delivery()
        channel = release.pipeline.channel
        where = f" — follow it in <#{channel}>" if channel else ""
        respond(
            text=f"Started release #{release.id} of `{flag_key}`{where}.", response_type="ephemeral"
        )

    def next_history_page(self, action: dict[str, Any], respond: Respond) -> None:
        """The history's "Next page" button: `flag:page`."""
        flag_key, _, page = (action.get("value") or "").rpartition(":")
        try:
            self._history(respond, flag_key, int(page), replace=True)
        except (ValueError, DomainError):
            respond(text="That history page could not be shown.", response_type="ephemeral")

    def submit_start(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The start modal: start the release inside the ack, so errors show in the form."""
        try:
            flag_key, value = start_values_from_view(view["state"])
            self.ctx.service.start_release(
                flag_key, parse_value(value), body["user"]["id"], self.ctx.clock()
            )
        except DomainError as error:
            about_value = error.kind in (Kind.VALUE, Kind.INPUT)
            block = BlockId.START_VALUE if about_value else BlockId.START_FLAG
            ack(response_action="errors", errors={block.value: error.message})
            return
        except (KeyError, ValueError):
            ack(
                response_action="errors",
                errors={BlockId.START_FLAG.value: "Pick a flag and type a value."},
            )
            return
        ack()
        self.ctx.kick_delivery()


def register(app: App, ctx: SlackContext) -> None:
    """Attach `/release` and its follow-ups to the Bolt app."""
    handler = ReleaseCommand(ctx)

    def release_command(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        handler.run(command, client, respond)

    def history_page(action: dict[str, Any], respond: Respond) -> None:
        handler.next_history_page(action, respond)

    app.command("/release")(ack=_ack, lazy=[release_command])
    app.action(ActionId.HISTORY_NEXT.value)(ack=_ack, lazy=[history_page])
    app.view(CallbackId.START_RELEASE.value)(handler.submit_start)
