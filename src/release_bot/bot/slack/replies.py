"""How the bot answers the person behind a request: privately, in a modal, or by a redraw."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.models.views import View

from release_bot.bot.slack.ids import Confirmation
from release_bot.bot.slack.views import ReleaseSnapshot, status_blocks, status_text
from release_bot.bot.slack.views.texts import clip
from release_bot.core.errors import DomainError, Kind
from release_bot.core.sentences import say

log = logging.getLogger(__name__)
SHOWN = 80  # characters of an undelivered reply kept in the log


@dataclass(frozen=True)
class Where:
    """Where a request came from: who, which channel, which message, how to answer privately."""

    user: str
    channel: str | None = None
    message_ts: str | None = None
    ephemeral: bool = False
    respond: Respond | None = None


def where_of(body: Mapping[str, Any], context: BoltContext) -> Where:
    """Where to answer: the clicked message, the command's channel, or the confirmed message."""
    user = str(context.user_id or "")
    confirmation = context.get(Confirmation.key)
    if isinstance(confirmation, Confirmation):
        return Where(user, confirmation.channel, confirmation.ts)
    container = body.get("container")
    container = container if isinstance(container, Mapping) else {}
    return Where(
        user=user,
        channel=container.get("channel_id") or context.channel_id,
        message_ts=container.get("message_ts"),
        ephemeral=bool(container.get("is_ephemeral")),
        respond=context.respond if context.response_url else None,  # none from App Home
    )


def tell(
    client: WebClient, where: Where, text: str, blocks: list[dict[str, Any]] | None = None,
    replace: bool = False,
) -> None:
    """Say something only the user sees: via response_url (in place of the message it answers,
    with `replace`), else ephemerally in the channel, else in a direct message; a way Slack will
    not take, or that cannot be reached, passes on to the next."""
    for way in _ways(client, where, replace):
        try:
            way(text, blocks)
            return
        except (SlackClientError, OSError, ValueError) as error:
            log.warning("could not reply to %s one way (%s); trying the next", where.user, error)
    log.warning("nobody could be told: %s", clip(text, SHOWN))


Blocks = list[dict[str, Any]] | None


def _ways(client: WebClient, where: Where, replace: bool) -> list[Callable[[str, Blocks], object]]:
    """The ways to reach the person behind `where`, best first."""
    ways: list[Callable[[str, Blocks], object]] = []
    if (respond := where.respond) is not None:

        def via_response_url(text: str, blocks: Blocks) -> None:
            sent = respond(text=text, blocks=blocks, response_type="ephemeral",
                           replace_original=replace)
            if sent.status_code != 200:
                raise SlackRequestError(f"the response_url answered HTTP {sent.status_code}")

        ways.append(via_response_url)
    if (channel := where.channel) and where.user:
        ways.append(lambda text, blocks: client.chat_postEphemeral(
            channel=channel, user=where.user, text=text, blocks=blocks))
    if where.user:
        ways.append(lambda text, blocks: client.chat_postMessage(
            channel=where.user, text=text, blocks=blocks))
    return ways


def redraw(client: WebClient, where: Where, snap: ReleaseSnapshot, now: datetime) -> None:
    """Show the current state in the message that was clicked."""
    blocks = [b.to_dict() for b in status_blocks(snap, now)]
    try:
        if where.ephemeral and where.respond is not None:
            where.respond(text=status_text(snap), blocks=blocks, replace_original=True)
        elif where.channel and where.message_ts:
            client.chat_update(
                channel=where.channel, ts=where.message_ts, text=status_text(snap), blocks=blocks
            )
    except (SlackClientError, OSError, ValueError) as error:
        log.warning("could not redraw release #%s: %s", snap.release.id, error)


class ModalNotOpened(DomainError):
    """Slack would not open a modal (no trigger_id, or it expired); nothing was done."""

    kind: Kind = Kind.UNAVAILABLE


def open_modal(
    client: WebClient, trigger_id: str | None, view: View, what: str, advice: str
) -> None:
    """Open a modal for the person who clicked or typed; ModalNotOpened when Slack would not."""
    problem = "there was no trigger_id"
    if trigger_id:
        try:
            client.views_open(trigger_id=trigger_id, view=view.to_dict())
            return
        except SlackApiError as error:
            problem = str(error.response.get("error"))
    raise ModalNotOpened(say("Slack did not open {what} ({problem}) — {advice}",
                             what=what, problem=problem, advice=advice))
