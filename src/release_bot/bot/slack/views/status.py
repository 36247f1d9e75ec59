"""The release status message, its controls, and the short texts posted around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InteractiveElement,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from release_bot.bot.slack.ids import ActionId, BlockId, Target
from release_bot.bot.slack.views.checks import check_texts
from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.bot.slack.views.texts import (
    SECTION_LIMIT,
    change_plain,
    change_text,
    clip,
    code,
    compact,
    escape,
    kind_word,
    mrkdwn_of,
    pack,
    phase_line,
    phase_name,
    phase_name_plain,
    plural,
    principals,
    release_ref,
    safe,
    scope,
    scope_plain,
    slack_date,
    state_line,
    state_plain,
    who,
)
from release_bot.core.durations import format_duration
from release_bot.core.machine import Approvals, allowed_actions, preview
from release_bot.core.models import Action, FlagKind, ReleaseState
from release_bot.core.sentences import Sentence, say

MESSAGE_BLOCKS = 50
HEADER_LIMIT = 150
CONFIRM_TEXT_LIMIT = 300
CONFIRM_TITLE_LIMIT = 100
OVERFLOW_MAX = 5
REASON_LIMIT = 2000
# sections the checks of the live phases may take; the phases keep the rest
CHECK_SECTIONS = 3

# who the approve dialog speaks to: it is drawn once for everyone who sees the message
NEXT_APPROVER = "the next approver"
ACTION_EMOJI = {
    Action.APPROVE: ":white_check_mark:",
    Action.PAUSE: ":double_vertical_bar:",
    Action.UNPAUSE: ":arrow_forward:",
    Action.SKIP: ":fast_forward:",
    Action.ABORT: ":rotating_light:",
    Action.FULL_ROLLOUT: ":rocket:",
}


def checked(blocks: Sequence[Block], limit: int = MESSAGE_BLOCKS) -> list[Block]:
    """The blocks, after slack_sdk has checked each one against Slack's limits."""
    if len(blocks) > limit:
        raise ValueError(f"{len(blocks)} blocks is more than Slack's limit of {limit}")
    for block in blocks:
        block.to_dict()  # raises SlackObjectFormationError when a limit is broken
    return list(blocks)


def mrkdwn(text: str) -> SectionBlock:
    """A section of mrkdwn text (clipped to Slack's limit as a last resort)."""
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)))


def context(text: str) -> ContextBlock:
    """A line of small print."""
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, SECTION_LIMIT))])


# --- pieces of the status message ------------------------------------------------------------

def header_block(snap: ReleaseSnapshot) -> HeaderBlock:
    """`new_checkout · feature gate`."""
    suffix = f" · {kind_word(snap.kind)}"
    key = clip(snap.release.flag_key, HEADER_LIMIT - len(suffix))
    return HeaderBlock(block_id=BlockId.HEADER.value, text=PlainTextObject(text=key + suffix))


def summary_text(snap: ReleaseSnapshot, now: datetime) -> str:
    """Who started which release through which pipeline, and where it stands."""
    release = snap.release
    first = (
        f"*Release #{snap.release_id}* of {code(release.flag_key)} · pipeline "
        f"*{safe(release.pipeline.name)}* · started by {who(release.triggered_by)} "
        f"{slack_date(release.created_at)}"
    )
    return f"{first}\n{state_line(snap, now)}"


def phase_texts(snap: ReleaseSnapshot, now: datetime, max_sections: int) -> list[str]:
    """Every phase as one line, packed into at most `max_sections` section texts."""
    count = len(snap.release.pipeline.phases)
    lines = ["*Phases*", *(phase_line(snap, i, now) for i in range(count))]
    chunks = pack(lines)
    if len(chunks) > max_sections:
        shown = chunks[: max_sections - 1]
        shown_lines = sum(chunk.count("\n") + 1 for chunk in shown) - 1
        chunks = [*shown, f"… and {plural(count - shown_lines, 'more phase')}"]
    return chunks


def approve_words(snap: ReleaseSnapshot, now: datetime) -> Sentence:
    """What approving does now, from the core's preview: which phase goes live where, n of m."""
    release = snap.release
    seen = preview(release, Action.APPROVE, NEXT_APPROVER, now)
    words = {"mine": seen.approvals.got, "required": seen.approvals.required,
             "phase": release.current_phase.name, "scope": scope_plain(release.current_phase)}
    template = "Yours is approval {mine} of {required}: phase {phase:name} goes live in {scope}"
    if release.phase not in seen.effect.goes_live:
        more = plural(seen.approvals.remaining, "more person")
        return say(template + " once {more} approve.", more=more, **words)
    if seen.bakes_for:
        return say(template + " as soon as you approve. It then bakes for {bake:duration}.",
                   bake=seen.bakes_for.total_seconds(), **words)
    return say(template + " as soon as you approve.", **words)


def approve_confirm(snap: ReleaseSnapshot, now: datetime) -> ConfirmObject:
    """The dialog before an approval counts: which phase goes live where, and n of m."""
    name = phase_name_plain(snap.release, snap.release.phase)
    text = approve_words(snap, now).plain
    return ConfirmObject(
        title=PlainTextObject(text=clip(f"Approve phase {name}?", CONFIRM_TITLE_LIMIT)),
        text=PlainTextObject(text=clip(text, CONFIRM_TEXT_LIMIT)),
        confirm=PlainTextObject(text="Approve"),
        deny=PlainTextObject(text="Cancel"),
        style="primary",
    )


def controls(snap: ReleaseSnapshot, now: datetime) -> list[InteractiveElement]:
    """Approve (when awaiting approval) and ⋯ with the other actions the state accepts."""
    release = snap.release
    allowed = allowed_actions(release.state)
    elements: list[InteractiveElement] = []
    if Action.APPROVE in allowed:
        elements.append(ButtonElement(
            text=PlainTextObject(text=Action.APPROVE.label),
            action_id=ActionId.APPROVE.value,
            value=Target(Action.APPROVE, snap.release_id, release.phase).encode(),
            style="primary",
            confirm=approve_confirm(snap, now),
        ))
    others = [a for a in allowed if a is not Action.APPROVE][:OVERFLOW_MAX]
    targets = [Target(a, snap.release_id, release.phase).encode() for a in others]
    if len(others) == 1:
        # An overflow menu needs at least two options: one action gets a plain button.
        elements.append(ButtonElement(
            text=PlainTextObject(text=others[0].label),
            action_id=ActionId.MORE.value,
            value=targets[0],
            style="danger" if others[0] is Action.ABORT else None,
        ))
    elif others:
        elements.append(OverflowMenuElement(
            action_id=ActionId.MORE.value,
            options=[
                Option(text=PlainTextObject(text=a.label), value=value)
                for a, value in zip(others, targets, strict=True)
            ],
        ))
    return elements


def body_blocks(snap: ReleaseSnapshot, now: datetime, budget: int, *,
                with_change: bool = True) -> list[Block]:
    """Summary, change and phases of a release, in at most `budget` blocks."""
    blocks: list[Block] = [mrkdwn(summary_text(snap, now))]
    if with_change:
        blocks.append(mrkdwn(change_text(snap)))
    checks = [mrkdwn(text) for text in
              check_texts(snap, min(CHECK_SECTIONS, budget - len(blocks) - 1))]
    blocks += [mrkdwn(text) for text in phase_texts(snap, now, budget - len(blocks) - len(checks))]
    return blocks + checks


# --- public builders -------------------------------------------------------------------------

def status_blocks(snap: ReleaseSnapshot, now: datetime) -> list[Block]:
    """The status message of a release: what changes, every phase, controls for now."""
    release = snap.release
    tail: list[Block] = []
    elements = controls(snap, now)
    if elements:
        tail.append(ActionsBlock(block_id=BlockId.CONTROLS.value, elements=elements))
    tail.append(context(f"Release #{snap.release_id} · updated {slack_date(now)}"))
    if not release.active:
        tail[-1] = context(f"Release #{snap.release_id} · {release.state.value}")
    head: list[Block] = [header_block(snap)]
    body = body_blocks(snap, now, MESSAGE_BLOCKS - len(head) - len(tail))
    return checked([*head, *body, *tail])


def status_text(snap: ReleaseSnapshot) -> str:
    """The notification text of the status message (shown where blocks are not)."""
    return escape(
        f"Release #{snap.release_id} of {snap.release.flag_key} ({change_plain(snap)}): "
        f"{state_plain(snap)}"
    )


def action_reply_text(actor: str, action: Action, message: Sentence, reason: str | None) -> str:
    """The thread reply after an action: `<@U1> approved phase *Canary* (1 of 2)` and the reason.

    `message` is the core's sentence for the event; the reason is the person's own words, so it
    is escaped and quoted.
    """
    text = f"{ACTION_EMOJI[action]} {who(actor)} {mrkdwn_of(message)}"
    if reason and reason.strip():
        quoted = "\n".join(f"> {escape(line)}" for line in
                           clip(reason.strip(), REASON_LIMIT).splitlines())
        text += "\n" + quoted
    return text


def refusal_blocks(message: str, snap: ReleaseSnapshot | None, now: datetime) -> list[Block]:
    """An ephemeral reply to a refused or denied attempt: why, and where the release stands.

    The current status is shown without controls: an ephemeral message cannot be updated when
    the release moves on, so buttons on it would soon be stale.
    """
    blocks: list[Block] = [mrkdwn(f":no_entry_sign: {message}")]
    if snap is None:
        return checked(blocks)
    tail: list[Block] = []
    if snap.permalink:
        tail.append(context(f"<{snap.permalink}|Open the status message> to act on it."))
    budget = MESSAGE_BLOCKS - len(blocks) - len(tail)
    blocks += body_blocks(snap, now, budget, with_change=False)
    return checked([*blocks, *tail])


def ending_text(snap: ReleaseSnapshot) -> str:
    """The thread reply when a release completes or is aborted."""
    release = snap.release
    ref = f"Release #{snap.release_id} of {code(release.flag_key)}"
    when = f" {slack_date(release.ended_at)}" if release.ended_at is not None else ""
    envs = escape(clip(", ".join(release.pipeline.environments), SECTION_LIMIT // 2))
    if release.state is ReleaseState.COMPLETED:
        value = code(compact(snap.new_value)) if snap.kind is FlagKind.GATE else (
            f"version {release.to_version}")
        return (
            f":white_check_mark: {ref} completed{when}: {value} is "
            f"now the base value in {envs}."
        )
    if release.state is ReleaseState.ABORTED:
        value = code(compact(snap.old_value)) if snap.kind is FlagKind.GATE else (
            f"version {release.from_version}")
        return (
            f":no_entry: {ref} was aborted{when}: every environment "
            f"serves its pre-release value ({value}) again."
        )
    return f"{ref}: {state_plain(snap)}."


@dataclass(frozen=True)
class ApprovalAsk:
    """An approval notice as the core wrote it: the phase, whom it asks, the count back then.

    A notice delivered late (Slack was down) while the release moved on still names that phase
    and asks that phase's approvers, not whoever is asked now.
    """

    phase: int
    groups: tuple[str, ...]
    count: Approvals
    waited: timedelta = timedelta(0)


def approval_needed_text(snap: ReleaseSnapshot, ask: ApprovalAsk) -> str:
    """The message that asks the approver groups for an approval, and what it will do."""
    release = snap.release
    phase = release.pipeline.phases[ask.phase]
    text = (
        f":lock: {principals(ask.groups, snap.mentions)}: phase {phase_name(release, ask.phase)} "
        f"of {release_ref(snap)} ({escape(change_plain(snap))}) is waiting for approval — "
        f"{ask.count.got} of {plural(ask.count.required, 'approval')} so far. Approving puts it "
        f"live in {scope(phase)}"
    )
    if phase.bake > timedelta(0):
        text += f", where it bakes for {format_duration(phase.bake)}"
    text += "."
    if snap.permalink:
        text += f" <{snap.permalink}|Open the status message> to approve."
    else:
        text += " Use *Approve* on the status message."
    return text


def _waited(snap: ReleaseSnapshot, ask: ApprovalAsk) -> str:
    """`phase *Canary* of release #42 of `f` has waited 4h for approval`."""
    return (
        f"phase {phase_name(snap.release, ask.phase)} of {release_ref(snap)} has waited "
        f"{format_duration(ask.waited)} for approval"
    )


def reminder_text(snap: ReleaseSnapshot, ask: ApprovalAsk) -> str:
    """The reminder, in the thread, while an approval keeps waiting."""
    return (
        f":hourglass: Reminder for {principals(ask.groups, snap.mentions)}: "
        f"{_waited(snap, ask)} ({ask.count.got} of {plural(ask.count.required, 'approval')})."
    )


def escalation_text(snap: ReleaseSnapshot, ask: ApprovalAsk) -> str:
    """The escalation, broadcast from the thread, once an approval waited escalate_after."""
    return (
        f":rotating_light: {principals(ask.groups, snap.mentions)}: {_waited(snap, ask)} — "
        "please find an approver, or abort the release."
    )
