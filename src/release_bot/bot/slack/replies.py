"""The one place that turns domain errors into an ephemeral reply for the person who clicked."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.views import (
    ReleaseSnapshot,
    refusal_blocks,
    status_blocks,
    status_text,
)
from release_bot.bot.slack.views.words import mrkdwn_of
from release_bot.core.errors import DomainError, Kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Where:
    """Where a click came from: who, which channel, which message, how to answer privately."""

    user: str
    channel: str | None = None
    message_ts: str | None = None
    ephemeral: bool = False
    respond: Respond | None = None


def tell(
    client: WebClient, where: Where, text: str, blocks: list[dict[str, Any]] | None = None
) -> None:
    """Say something only the user sees: via response_url when there is one, else postEphemeral."""
    try:
        if where.respond is not None:
            where.respond(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=False
            )
        elif where.channel:
            client.chat_postEphemeral(
                channel=where.channel, user=where.user, text=text, blocks=blocks
            )
        else:
            client.chat_postMessage(channel=where.user, text=text, blocks=blocks)
    except SlackApiError as error:
        log.warning("could not reply to %s: %s", where.user, error.response.get("error"))


def refuse(
    ctx: SlackContext, client: WebClient, where: Where, error: DomainError, release_id: int | None
) -> None:
    """Explain a refusal to the user; redraw the message when the click was out of date."""
    release = None
    if release_id is not None:
        try:
            release = ctx.service.release(release_id)
        except DomainError:
            release = None
    snap = ctx.snapshot(release) if release else None
    now = ctx.clock()
    text = mrkdwn_of(error.sentence)  # groups named, not mentioned: nobody is paged
    blocks = [b.to_dict() for b in refusal_blocks(text, snap, now)]
    tell(client, where, text, blocks)
    out_of_date = error.kind is Kind.OUT_OF_DATE
    if snap is not None and out_of_date:
        redraw(client, where, snap, now)


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
    except SlackApiError as error:
        log.warning(
            "could not redraw release #%s: %s", snap.release.id, error.response.get("error")
        )
