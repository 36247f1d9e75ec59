"""Builds the Bolt app: our WebClient (base URL, retries), listeners, ack-first processing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.listeners import command, controls, events


def build_app(ctx: SlackContext, client: WebClient, signing_secret: str | None) -> App:
    """A Bolt app whose listeners ack at once and do their work after the response is sent."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt"),
        request_verification_enabled=signing_secret is not None,
    )
    controls.register(app, ctx)
    command.register(app, ctx)
    events.register(app, ctx)
    return app
