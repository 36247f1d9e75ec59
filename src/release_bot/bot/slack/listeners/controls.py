"""Clicks on a status message: Approve, the ⋯ menu, and the confirmation modal it opens."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId, Target
from release_bot.bot.slack.replies import Where, refuse, tell
from release_bot.bot.slack.views import confirm_modal, metadata_from_view, reason_from_view
from release_bot.bot.slack.views.words import mrkdwn_of
from release_bot.core.errors import DomainError, InvalidInput
from release_bot.core.machine import applicable
from release_bot.core.models import Command
from release_bot.core.rules import AbortHasReason


def _ack(ack: Ack) -> None:
    ack()


def _where(body: dict[str, Any], respond: Respond | None) -> Where:
    container = body.get("container") or {}
    return Where(
        user=str((body.get("user") or {}).get("id") or ""),
        channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
        message_ts=container.get("message_ts"),
        ephemeral=bool(container.get("is_ephemeral")),
        respond=respond,
    )


def _target(body: dict[str, Any]) -> Target:
    action = (body.get("actions") or [{}])[0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    try:
        if not (body.get("user") or {}).get("id"):
            raise ValueError("it names no user")
        return Target.decode(str(value))
    except ValueError as error:
        raise InvalidInput(
            f"This control could not be read ({error}) — try /release status."
        ) from None


def carry_out(
    ctx: SlackContext, client: WebClient, where: Where, target: Target, reason: str | None = None
) -> None:
    """Act through the core service; on success the outbox updates the message and thread."""
    command = Command(target.release_id, target.action, where.user, target.phase, reason)
    try:
        ctx.service.act(command, ctx.clock())
    except DomainError as error:
        refuse(ctx, client, where, error, target.release_id)
        return
    ctx.kick_delivery()


def _form_errors(view: dict[str, Any]) -> dict[str, str] | None:
    """Why a submitted confirmation modal goes back to the person, by block; None if it is fine."""
    try:
        target, _, _ = metadata_from_view(view.get("private_metadata", ""))
    except ValueError:
        return {BlockId.REASON.value: "This form could not be read; close it and retry."}
    missing = AbortHasReason(target.action, reason_from_view(view.get("state") or {})).broken()
    return None if missing is None else {BlockId.REASON.value: missing.plain}


def register(app: App, ctx: SlackContext) -> None:
    """Attach the control listeners to the Bolt app."""

    def approve(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        where = _where(body, respond)
        try:
            target = _target(body)
        except DomainError as error:
            tell(client, where, mrkdwn_of(error.sentence))
            return
        carry_out(ctx, client, where, target)

    def open_confirmation(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        where = _where(body, respond)
        try:
            target = _target(body)
        except DomainError as error:
            tell(client, where, mrkdwn_of(error.sentence))
            return
        try:
            release = ctx.service.release(target.release_id)
            applicable(release, target.action, target.phase)
        except DomainError as error:
            refuse(ctx, client, where, error, target.release_id)
            return
        view = confirm_modal(
            ctx.snapshot(release), target, where.channel, where.message_ts, ctx.clock()
        )
        problem = None if body.get("trigger_id") else "the click had no trigger_id"
        if problem is None:
            try:
                client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
            except SlackApiError as error:
                problem = str(error.response.get("error"))
        if problem is not None:
            text = f"Slack did not open the confirmation ({problem}) — pick the action again."
            tell(client, where, text)

    def check_confirmation(ack: Ack, view: dict[str, Any]) -> None:
        errors = _form_errors(view)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()

    def confirmed(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        if _form_errors(view):
            return  # sent back to the form by check_confirmation; Bolt runs lazies regardless
        target, channel, ts = metadata_from_view(view.get("private_metadata", ""))
        where = Where(user=body["user"]["id"], channel=channel, message_ts=ts)
        carry_out(ctx, client, where, target, reason_from_view(view.get("state") or {}))

    app.action(ActionId.APPROVE.value)(ack=_ack, lazy=[approve])
    app.action(ActionId.MORE.value)(ack=_ack, lazy=[open_confirmation])
    app.view(CallbackId.CONFIRM_ACTION.value)(ack=check_confirmation, lazy=[confirmed])
