"""Builds the Bolt app: our WebClient (base URL, retries), middleware, one error path, listeners."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.errors import on_error
from release_bot.bot.slack.listeners import actions, commands, events, views
from release_bot.bot.slack.middleware import with_release_bot


def build_app(ctx: SlackContext, client: WebClient, signing_secret: str | None) -> App:
    """A Bolt app whose listeners ack at once and do their work after the response is sent;
    a request no listener takes goes to the error path too."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt"),
        request_verification_enabled=signing_secret is not None,
        raise_error_for_unhandled_request=True,  # a click nobody takes is still answered
    )
    app.use(with_release_bot(ctx))
    app.error(on_error)
    for listeners in (actions, commands, views, events):
        listeners.register(app)
    return app
