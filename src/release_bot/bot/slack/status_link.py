"""The link to a release's status message, asked of Slack when the message has been posted."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.slack.context import SlackContext

log = logging.getLogger(__name__)


def status_permalink(ctx: SlackContext, client: WebClient, release_id: int) -> str | None:
    """The permalink of the release's status message; None before it is posted or on failure."""
    where = ctx.status_message(release_id)
    if where is None:
        return None
    channel, ts = where
    try:
        link = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as error:
        log.warning("no permalink for release #%s: %s", release_id, error.response.get("error"))
        return None
    return link if isinstance(link, str) else None
