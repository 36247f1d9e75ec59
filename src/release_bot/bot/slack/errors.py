"""The one error path: Bolt's error handler, and the guard that gives lazy listeners the same.

A domain error becomes a refusal only the person sees, with the release's current status (and,
when the click was out of date, a redraw of the clicked message); in a submitted form it shows
next to the field it is about. Anything else is logged and answered with one plain sentence.
Bolt only logs what a lazy listener raises, so every lazy listener is registered `lazily`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, BoltContext, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_sdk import WebClient

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.ids import BlockId, CallbackId, Carried
from release_bot.bot.slack.middleware import CONTEXT_KEY, from_a_person
from release_bot.bot.slack.replies import Where, redraw, tell, where_of
from release_bot.bot.slack.views import form_fields, notice_modal, refusal_blocks
from release_bot.bot.slack.views.texts import mrkdwn_of
from release_bot.core.errors import DomainError, InvalidInput, Kind

log = logging.getLogger(__name__)
UNHANDLED = ("release-bot does not know this control, form or command (it may come from an "
             "older version of the app): use /release help to see what it knows.")
FAULT = (
    "Something went wrong on release-bot's side; it has been logged. Try again in a moment — "
    "`/release status` shows where a release stands."
)


def acknowledge(ack: Ack) -> None:
    """Ack at once: the work follows in a lazy listener, after Slack has its answer."""
    ack()


def lazily(listener: Callable[..., Any], handler: Callable[..., None]) -> None:
    """Register `handler` as the lazy work behind an immediate ack, on the one error path."""
    listener(ack=acknowledge, lazy=[guarded(handler)])


def guarded(handler: Callable[..., None]) -> Callable[[BoltRequest, logging.Logger], None]:
    """`handler` as a lazy listener whose exceptions are answered like any other request's."""
    names = inspect.getfullargspec(handler).args  # the arguments Bolt is to inject, by name

    def run(request: BoltRequest, logger: logging.Logger) -> None:
        kwargs = build_required_kwargs(logger=logger, required_arg_names=list(names),
                                       request=request, response=None, this_func=handler)
        try:
            handler(**kwargs)
        except Exception as error:  # noqa: BLE001 — the one place a lazy listener's error lands
            answer(error, request.body, request.context)

    run.__name__ = run.__qualname__ = handler.__name__  # Bolt tells lazy functions by name
    run.__doc__ = handler.__doc__
    return run


def on_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse | None:
    """Bolt's error handler (middleware, ack, a request no listener takes): a form shows why;
    a click or a command is acked, then explained; anything else keeps Bolt's answer."""
    if isinstance(error, BoltUnhandledRequestError):
        if not from_a_person(body):
            log.info("no listener takes a request of type %r", body.get("type"))
            return None
        error = InvalidInput(UNHANDLED)
    if body.get("type") == "view_submission":
        if not isinstance(error, DomainError):
            log.error("a form submission failed", exc_info=error)
        return BoltResponse(status=200, body=form_answer(body, error))
    context.listener_runner.listener_executor.submit(answer, error, body, context)
    return BoltResponse(status=200, body="")


def form_answer(body: Mapping[str, Any], error: Exception) -> dict[str, Any]:
    """The sentence next to the field it is about, or in place of a form without that field."""
    view = body.get("view") or {}
    text = error.message if isinstance(error, DomainError) else FAULT
    kind = error.kind if isinstance(error, DomainError) else None
    if view.get("callback_id") != CallbackId.START_RELEASE:
        field = BlockId.REASON
    elif kind in (Kind.VALUE, Kind.INPUT):
        field = BlockId.START_VALUE
    else:
        field = BlockId.START_FLAG
    if field.value in form_fields(view):
        return {"response_action": "errors", "errors": {field.value: text}}
    return {"response_action": "update", "view": notice_modal(text).to_dict()}


def answer(error: Exception, body: Mapping[str, Any], context: BoltContext) -> None:
    """Tell the person why their request did nothing; an event has nobody to tell."""
    if not isinstance(error, DomainError):
        log.error("a Slack request failed", exc_info=error)
    if body.get("type") == "event_callback":
        log.info("an event was not handled: %s", error)
        return
    where = where_of(body, context)
    try:
        if isinstance(error, DomainError):
            refuse(context[CONTEXT_KEY], context.client, where, error, _release_named(context))
        else:
            tell(context.client, where, FAULT)
    except Exception:  # noqa: BLE001 — it runs on an executor, which would swallow it
        log.exception("could not tell %s why their request failed", where.user)


def _release_named(context: BoltContext) -> int | None:
    """The release the request's carried value names, if it names one."""
    carried = [v for v in context.values() if isinstance(v, Carried)]
    return carried[0].release_named() if carried else None


def refuse(ctx: SlackContext, client: WebClient, where: Where, error: DomainError,
           release_id: int | None) -> None:
    """Explain a refusal with the release's status; redraw the message if it was out of date."""
    release = None
    if release_id is not None:
        try:
            release = ctx.service.release(release_id)
        except DomainError:
            release = None
    snap = ctx.snapshot(release) if release else None
    now = ctx.clock()
    text = mrkdwn_of(error.sentence)  # groups named, not mentioned: nobody is paged
    tell(client, where, text, [b.to_dict() for b in refusal_blocks(text, snap, now)])
    if snap is not None and error.kind is Kind.OUT_OF_DATE:
        redraw(client, where, snap, now)
