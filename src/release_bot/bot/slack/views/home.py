"""The App Home tab: releases waiting on this person's approval first, then everything running."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from release_bot.bot.slack.ids import ActionId, Target
from release_bot.bot.slack.views.commands import COMMAND, release_sections
from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.bot.slack.views.status import approve_confirm, checked, context, mrkdwn
from release_bot.bot.slack.views.texts import (
    SECTION_LIMIT,
    approval_progress,
    change_plain,
    clip,
    code,
    escape,
    phase_name,
    scope,
    slack_date,
)
from release_bot.core.models import Action, ReleaseState

HOME_BLOCKS = 100
WAITING_MAX = 40


def _waiting_section(snap: ReleaseSnapshot, now: datetime) -> SectionBlock:
    """A release waiting for this person's approval, with an Approve button."""
    release = snap.release
    index = release.phase
    link = f" · <{snap.permalink}|status message>" if snap.permalink else ""
    text = (
        f"*#{snap.release_id}* {code(release.flag_key)} ({escape(change_plain(snap))}) — phase "
        f"{phase_name(release, index)} in {scope(release.current_phase)}{link}\n"
        f":lock: {approval_progress(snap, index)}"
    )
    button = ButtonElement(
        text=PlainTextObject(text=Action.APPROVE.label),
        action_id=ActionId.APPROVE.value,
        value=Target(Action.APPROVE, snap.release_id, index).encode(),
        style="primary",
        confirm=approve_confirm(snap, now),
    )
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)), accessory=button)


def home_view(user_id: str, waiting_on_user: Sequence[ReleaseSnapshot],
              active: Sequence[ReleaseSnapshot], now: datetime) -> View:
    """The Home tab of one person: what waits on their approval, then every active release."""
    waiting = [s for s in waiting_on_user
               if s.release.state is ReleaseState.AWAITING_APPROVAL][:WAITING_MAX]
    running = [s for s in active if s.release.active]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Releases")),
        context(f"For <@{user_id}> · updated {slack_date(now)}"),
        mrkdwn("*Waiting for your approval*"),
    ]
    if waiting:
        blocks += [_waiting_section(s, now) for s in waiting]
    else:
        blocks.append(context("Nothing is waiting for your approval."))
    blocks += [DividerBlock(), mrkdwn(f"*Running now* ({len(running)})")]
    if not running:
        blocks.append(context(f"No release is running. Start one with `{COMMAND} start`."))
    else:
        blocks += release_sections(running, now, HOME_BLOCKS - len(blocks),
                                   f"use `{COMMAND} list`.")
    view = View(type="home", blocks=checked(blocks, HOME_BLOCKS))
    view.to_dict()
    return view
