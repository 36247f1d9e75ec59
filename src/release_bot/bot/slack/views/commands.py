"""What `/release help`, `/release list` and `/release history` answer with, and Show status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from release_bot.bot.slack.ids import ActionId, HistoryPage, ReleaseRef
from release_bot.bot.slack.views.modals import MODAL_BLOCKS, MODAL_TEXT_LIMIT
from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.bot.slack.views.status import (
    HEADER_LIMIT,
    MESSAGE_BLOCKS,
    body_blocks,
    checked,
    context,
    header_block,
    mrkdwn,
)
from release_bot.bot.slack.views.texts import (
    SECTION_LIMIT,
    change_plain,
    clip,
    code,
    escape,
    kind_word,
    pack,
    plural,
    short_state,
    slack_date,
    who,
)
from release_bot.core.models import Action, Event, Outcome

COMMAND = "/release"
PER_PAGE_MAX = 40
EVENT_MESSAGE_LIMIT = 600
EVENT_REASON_LIMIT = 300


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_LIMIT)))


def help_blocks() -> list[Block]:
    """The subcommands of `/release` and what each one does."""
    lines = [
        f"`{COMMAND} help` — this list",
        f"`{COMMAND} list` — the releases running now, with where each one stands",
        f"`{COMMAND} status [ID|FLAG]` — the status of a release, by its number or its flag's "
        "key; without either, the releases running now",
        f"`{COMMAND} history FLAG` — what happened to a flag, latest first",
        f"`{COMMAND} start FLAG VALUE` — start a release of a flag through its pipeline. VALUE "
        "is JSON: `true` or `false` for a feature gate, an object such as `{\"limit\": 5}` for a "
        f"dynamic config. `{COMMAND} start` alone opens a form.",
    ]
    return checked([
        _header("Release bot"),
        mrkdwn("\n".join(lines)),
        context("Approve, Pause, Unpause, Skip, Abort and Full Roll Out are on each release's "
                "status message in the pipeline's channel."),
    ])


def release_line(snap: ReleaseSnapshot, now: datetime) -> str:
    """One release in one line (and its state under it), naming groups without mentioning them."""
    release = snap.release
    first = (
        f"*#{snap.release_id}* {code(release.flag_key)} · {kind_word(snap.kind)} · "
        f"{escape(change_plain(snap))} · started by {who(release.triggered_by)}"
    )
    return f"{first}\n{short_state(snap, now)}"


def open_button(snap: ReleaseSnapshot) -> ButtonElement:
    """Show status: asks for the release's status (see `status_modal`)."""
    return ButtonElement(
        text=PlainTextObject(text="Show status"),
        action_id=ActionId.OPEN_STATUS.value,
        value=ReleaseRef(snap.release_id).encode(),
    )


def status_modal(snap: ReleaseSnapshot, now: datetime) -> View:
    """What Show status opens: the release as it stands, and where to act on it.

    No controls: a modal is not redrawn when the release moves on, so its buttons would go
    stale. People act on the status message, which is kept current; `snap.permalink` links it.
    """
    channel = snap.release.pipeline.channel
    if snap.permalink:
        where = f"<{snap.permalink}|Open the status message> to act on it."
    else:
        where = f"Act on it from its status message in <#{channel}>." if channel else ""
    tail = [context(where)] if where else []
    head: list[Block] = [header_block(snap)]
    blocks = [*head, *body_blocks(snap, now, MODAL_BLOCKS - len(head) - len(tail)), *tail]
    view = View(
        type="modal",
        title=PlainTextObject(text=clip(f"Release #{snap.release_id}", MODAL_TEXT_LIMIT)),
        close=PlainTextObject(text="Close"),
        blocks=checked(blocks, MODAL_BLOCKS),
    )
    view.to_dict()
    return view


def release_section(snap: ReleaseSnapshot, now: datetime) -> SectionBlock:
    """A release's line with its Show status button."""
    text = MarkdownTextObject(text=clip(release_line(snap, now), SECTION_LIMIT))
    return SectionBlock(text=text, accessory=open_button(snap))


def release_sections(snaps: Sequence[ReleaseSnapshot], now: datetime, room: int,
                     more: str) -> list[Block]:
    """A section per release in at most `room` blocks, the last saying how many more (`more`)."""
    shown = snaps if len(snaps) <= room else snaps[: room - 1]
    blocks: list[Block] = [release_section(s, now) for s in shown]
    if len(shown) < len(snaps):
        blocks.append(context(f"… and {plural(len(snaps) - len(shown), 'more release')}: {more}"))
    return blocks


def list_blocks(snaps: Sequence[ReleaseSnapshot], now: datetime) -> list[Block]:
    """`/release list`: the active releases, one section each with a link to its status."""
    active = [s for s in snaps if s.release.active]
    blocks: list[Block] = [_header(f"Releases running now ({len(active)})")]
    if not active:
        blocks.append(mrkdwn(
            f"No release is running. Start one with `{COMMAND} start FLAG VALUE`."
        ))
        return checked(blocks)
    blocks += release_sections(active, now, MESSAGE_BLOCKS - len(blocks),
                               f"use `{COMMAND} status FLAG` for one of them.")
    return checked(blocks)


# --- history ---------------------------------------------------------------------------------

def _action_label(action: str) -> str:
    try:
        return Action(action).label
    except ValueError:
        return action


def event_line(event: Event) -> str:
    """One history event: when, who, what, and why."""
    message = escape(clip(event.message, EVENT_MESSAGE_LIMIT))
    when = slack_date(event.at)
    release = f" · release #{event.release_id}" if event.release_id is not None else ""
    if event.outcome is Outcome.OK:
        text = f"{when} · {who(event.actor)} {message}{release}"
    else:
        text = (
            f"{when} · :no_entry_sign: {who(event.actor)} tried to "
            f"*{escape(_action_label(event.action))}* — {event.outcome.value}: {message}{release}"
        )
    if event.reason and event.reason.strip():
        reason = clip(" ".join(event.reason.split()), EVENT_REASON_LIMIT)
        text += f"\n> {escape(reason)}"
    return text


def history_blocks(flag_key: str, events: Sequence[Event], page: int,
                   per_page: int = 10) -> list[Block]:
    """A flag's history, latest first, `per_page` events a page.

    Pages count from 1 (0 is read as 1); "Next page" carries `flag:page+1`. Events are sorted
    newest first by time; events with the same time keep the order they are given in, so pass
    them latest first (`reversed(service.history(key))`).
    """
    per_page = min(max(per_page, 1), PER_PAGE_MAX)
    page = max(page, 1)
    ordered = sorted(events, key=lambda e: e.at, reverse=True)
    pages = max((len(ordered) + per_page - 1) // per_page, 1)
    shown = ordered[(page - 1) * per_page: page * per_page]
    blocks: list[Block] = [_header(f"History of {flag_key}")]
    if not ordered:
        blocks.append(mrkdwn(f"Nothing has happened to {code(flag_key)} yet."))
        return checked(blocks)
    if not shown:
        blocks.append(mrkdwn(f"There is no page {page}: the history has {pages}."))
    else:
        blocks += [mrkdwn(text) for text in pack(event_line(e) for e in shown)]
    blocks.append(context(f"Page {page} of {pages} · {plural(len(ordered), 'event')}"))
    if page < pages:
        blocks.append(ActionsBlock(elements=[ButtonElement(
            text=PlainTextObject(text="Next page"),
            action_id=ActionId.HISTORY_NEXT.value,
            value=HistoryPage(flag_key, page + 1).encode(),
        )]))
    return checked(blocks)
