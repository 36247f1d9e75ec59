"""Clicks on a status message: Approve, the ⋯ menu, and the confirmation modal it opens."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from release_bot.bot.slack.blocks import confirm_modal, metadata_from_view, reason_from_view
from release_bot.bot.slack.context import SlackContext
from release_bot.bot.slack.ids import ActionId, BlockId, CallbackId, Target
from release_bot.bot.slack.replies import Where, refuse, tell
from release_bot.core.errors import DomainError, InvalidInput
from release_bot.core.models import Action, Command
from release_bot.core.transitions import applicable

log = logging.getLogger(__name__)


def _ack(ack: Ack) -> None:
    ack()


def _where(body: dict[str, Any], respond: Respond | None) -> Where:
    container = body.get("container") or {}
    return Where(
        user=body["user"]["id"],
        channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
        message_ts=container.get("message_ts"),
        ephemeral=bool(container.get("is_ephemeral")),
        respond=respond,
    )


def _target(body: dict[str, Any]) -> Target:
    action = (body.get("actions") or [{}])[0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    try:
        return Target.decode(value)
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


def register(app: App, ctx: SlackContext) -> None:
    """Attach the control listeners to the Bolt app."""

    def approve(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        where = _where(body, respond)
        try:
            target = _target(body)
        except DomainError as error:
            tell(client, where, error.message)
            return
        carry_out(ctx, client, where, target)

    def open_confirmation(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        where = _where(body, respond)
        try:
            target = _target(body)
        except DomainError as error:
            tell(client, where, error.message)
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
        client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    def check_confirmation(ack: Ack, view: dict[str, Any]) -> None:
        try:
            target, _, _ = metadata_from_view(view.get("private_metadata", ""))
        except ValueError:
            ack(
                response_action="errors",
                errors={BlockId.REASON.value: "This form could not be read; close it and retry."},
            )
            return
        if target.action is Action.ABORT and not (reason_from_view(view["state"]) or "").strip():
            ack(
                response_action="errors",
                errors={BlockId.REASON.value: "Say why you abort: the history keeps it."},
            )
            return
        ack()

    def confirmed(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        try:
            target, channel, ts = metadata_from_view(view.get("private_metadata", ""))
        except ValueError:
            log.warning("confirmation with malformed metadata from %s", body["user"]["id"])
            return
        where = Where(user=body["user"]["id"], channel=channel, message_ts=ts)
        carry_out(ctx, client, where, target, reason_from_view(view["state"]))

    app.action(ActionId.APPROVE.value)(ack=_ack, lazy=[approve])
    app.action(ActionId.MORE.value)(ack=_ack, lazy=[open_confirmation])
    app.view(CallbackId.CONFIRM_ACTION.value)(ack=check_confirmation, lazy=[confirmed])
