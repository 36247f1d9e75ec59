"""Modals: the confirmation of an action chosen from ⋯, and the form that starts a release."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    InputInteractiveElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from release_bot.bot.slack.ids import BlockId, CallbackId, Confirmation, InputId, Target
from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.bot.slack.views.status import REASON_LIMIT, checked, context, mrkdwn
from release_bot.bot.slack.views.texts import (
    approval_count,
    bake_left,
    clip,
    code,
    compact,
    escape,
    join_words,
    next_step,
    phase_name,
    plural,
    principals,
    release_ref,
    scope,
    slack_date,
    state_line,
)
from release_bot.core.durations import format_duration
from release_bot.core.models import Action, FlagKind, PhaseStatus, Release

MODAL_BLOCKS = 100
MODAL_TEXT_LIMIT = 24
METADATA_LIMIT = 3000
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
SELECT_OPTIONS_MAX = 100


@dataclass(frozen=True)
class _Wording:
    """What a confirmation modal says for one action."""

    title: str
    submit: str
    text: str
    close: str = "Cancel"
    needs_reason: bool = False


def _live_names(release: Release) -> list[str]:
    return [phase_name(release, i) for i in release.live_phases()]


def _old_value(snap: ReleaseSnapshot) -> str:
    release = snap.release
    if snap.kind is FlagKind.GATE:
        return f"{code(compact(snap.old_value))} (version {release.from_version})"
    return f"version {release.from_version}"


def _new_value(snap: ReleaseSnapshot) -> str:
    release = snap.release
    if snap.kind is FlagKind.GATE:
        return f"{code(compact(snap.new_value))} (version {release.to_version})"
    return f"version {release.to_version}"


def _left_words(left: timedelta | None) -> str:
    return f"*{format_duration(left)}*" if left is not None else "the time"


def _pause(snap: ReleaseSnapshot, index: int, now: datetime) -> _Wording:
    release = snap.release
    name = phase_name(release, index)
    phase = release.pipeline.phases[index]
    left = bake_left(release, now)
    text = (
        f"Pause the bake timer of phase {name} ({release_ref(snap)}).\n\n"
        f"Phase {name} *stays live* in {scope(phase)} — nothing is taken down; only the timer "
        f"stops, with {_left_words(left)} left. Nothing moves on until someone unpauses, and "
        "the timer then resumes with the time that was left."
    )
    return _Wording("Pause the bake timer?", "Pause timer", text)


def _unpause(snap: ReleaseSnapshot, index: int, now: datetime) -> _Wording:
    release = snap.release
    name = phase_name(release, index)
    left = bake_left(release, now)
    text = (
        f"Resume the bake timer of phase {name} ({release_ref(snap)}) with the "
        f"{_left_words(left)} that was left."
    )
    if left is not None:
        ends = slack_date(now + left)
        text += f" When it runs out — around {ends} — {next_step(release, index)}."
    return _Wording("Resume the bake timer?", "Unpause", text)


def _skip(snap: ReleaseSnapshot, index: int, now: datetime) -> _Wording:
    release = snap.release
    phases = release.pipeline.phases
    name = phase_name(release, index)
    left = bake_left(release, now)
    text = f"End the bake of phase {name} now, as if its timer had run out"
    text += f" ({format_duration(left)} early).\n\n" if left is not None else ".\n\n"
    following = index + 1
    if following >= len(phases):
        envs = escape(", ".join(release.pipeline.environments))
        text += (
            f"This is the last phase: the release completes and {_new_value(snap)} becomes the "
            f"base value in *{envs}*."
        )
    else:
        nxt = phases[following]
        next_name = phase_name(release, following)
        if nxt.approval is not None:
            groups = principals(nxt.approval.groups, snap.mentions)
            text += (
                f"Next, phase {next_name} ({scope(nxt)}) *waits for approval*: "
                f"{plural(nxt.approval.required, 'approval')} from {groups}."
            )
        else:
            text += f"Next, phase {next_name} goes live right away in {scope(nxt)}."
        text += " Skipping never bypasses an approval gate: every gate still applies."
    return _Wording("Skip the bake?", "Skip bake", text)


def _full_rollout(snap: ReleaseSnapshot, index: int, now: datetime) -> _Wording:
    release = snap.release
    waiting = [
        i for i, status in enumerate(release.phase_statuses)
        if status in (PhaseStatus.PENDING, PhaseStatus.AWAITING_APPROVAL)
    ]
    envs = escape(", ".join(release.pipeline.environments))
    names = join_words([phase_name(release, i) for i in waiting], "and")
    text = "Put every remaining phase live at once"
    text += f": {names}." if waiting else "."
    text += (
        f" The release completes, and {_new_value(snap)} becomes the base value in *{envs}* "
        "for every unit."
    )
    gated = [i for i in waiting if release.pipeline.phases[i].approval is not None]
    if gated:
        gated_names = join_words([phase_name(release, i) for i in gated], "and")
        text += f" It does not wait for the approvals of {gated_names}."
    if bake_left(release, now) is not None:
        text += f" The bake of phase {phase_name(release, index)} ends now."
    text += (
        "\n\n:warning: This cannot be undone: to change the value again, start a new release."
    )
    return _Wording("Full roll out?", "Roll out now", text)


def _abort(snap: ReleaseSnapshot, index: int, now: datetime) -> _Wording:
    release = snap.release
    envs = escape(", ".join(release.pipeline.environments))
    live = _live_names(release)
    text = (
        ":warning: *This cannot be undone.*\n\n"
        f"Abort {release_ref(snap)}: every environment goes back to its pre-release value — "
        f"{_old_value(snap)} in *{envs}*. "
    )
    text += (
        f"Live now, and taken down: {join_words(live, 'and')}. " if live
        else "Nothing is live yet. "
    )
    text += "The release ends as aborted; starting a new release is the only way on."
    return _Wording("Abort the release?", "Abort release", text,
                    close="Keep it running", needs_reason=True)


def _approve(snap: ReleaseSnapshot, index: int, now: datetime) -> _Wording:
    release = snap.release
    phase = release.pipeline.phases[index]
    name = phase_name(release, index)
    got, required = approval_count(release, index)
    mine = got + 1
    text = f"Yours is approval {mine} of {required} for phase {name} ({release_ref(snap)}). "
    if mine >= required:
        text += f"Phase {name} goes live in {scope(phase)} as soon as you approve."
    else:
        text += (
            f"Phase {name} goes live in {scope(phase)} once "
            f"{plural(required - mine, 'more person')} approve."
        )
    return _Wording("Approve this phase?", "Approve", text)


_WORDINGS = {
    Action.PAUSE: _pause,
    Action.UNPAUSE: _unpause,
    Action.SKIP: _skip,
    Action.FULL_ROLLOUT: _full_rollout,
    Action.ABORT: _abort,
    Action.APPROVE: _approve,
}


def _reason_input() -> InputBlock:
    return InputBlock(
        block_id=BlockId.REASON.value,
        label=PlainTextObject(text="Why are you aborting?"),
        element=PlainTextInputElement(
            action_id=InputId.REASON.value,
            multiline=True,
            max_length=REASON_LIMIT,
            placeholder=PlainTextObject(text="What went wrong — kept in the flag's history"),
        ),
        hint=PlainTextObject(text="Posted in the release's thread and kept in its history."),
        optional=False,
    )


def confirm_modal(snap: ReleaseSnapshot, target: Target, channel: str | None, ts: str | None,
                  now: datetime) -> View:
    """The modal that confirms an action picked from ⋯: what will happen, in its own words.

    Abort also asks for the reason (block `BlockId.REASON`, input `InputId.REASON`). The target,
    channel and message ts travel in `private_metadata` as a `Confirmation`.
    """
    release = snap.release
    if target.release_id != snap.release_id:
        raise ValueError(f"target is for release #{target.release_id}, not #{snap.release_id}")
    if not 0 <= target.phase < len(release.pipeline.phases):
        raise ValueError(f"release #{snap.release_id} has no phase {target.phase}")
    wording = _WORDINGS[target.action](snap, target.phase, now)
    blocks: list[Block] = [mrkdwn(wording.text)]
    if wording.needs_reason:
        blocks.append(_reason_input())
    blocks.append(context(state_line(snap, now)))
    metadata = Confirmation(target, channel, ts).encode()
    view = View(
        type="modal",
        callback_id=CallbackId.CONFIRM_ACTION.value,
        title=PlainTextObject(text=clip(wording.title, MODAL_TEXT_LIMIT)),
        submit=PlainTextObject(text=clip(wording.submit, MODAL_TEXT_LIMIT)),
        close=PlainTextObject(text=clip(wording.close, MODAL_TEXT_LIMIT)),
        blocks=checked(blocks, MODAL_BLOCKS),
        private_metadata=metadata,
    )
    view.to_dict()
    return view


def _values(view_state: Mapping[str, Any]) -> Mapping[str, Any]:
    """`state.values` of a submitted view, given the state or the whole view."""
    if "values" in view_state:
        values = view_state["values"]
    else:
        values = (view_state.get("state") or {}).get("values", {})
    return values if isinstance(values, Mapping) else {}


def _input(view_state: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    entry = _values(view_state).get(block_id, {}).get(action_id, {})
    if not isinstance(entry, Mapping):
        return None
    selected = entry.get("selected_option")
    value = selected.get("value") if isinstance(selected, Mapping) else entry.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def reason_from_view(view_state: Mapping[str, Any]) -> str | None:
    """The abort reason typed into a submitted confirmation modal; None when there is none."""
    return _input(view_state, BlockId.REASON.value, InputId.REASON.value)


# --- starting a release ----------------------------------------------------------------------

def _flag_element(flag_keys: Sequence[str], initial_flag: str | None) -> InputInteractiveElement:
    keys = list(dict.fromkeys(flag_keys))
    fits = 0 < len(keys) <= SELECT_OPTIONS_MAX and all(
        len(k) <= OPTION_VALUE_LIMIT for k in keys
    )
    if not fits:
        return PlainTextInputElement(
            action_id=InputId.START_FLAG.value,
            initial_value=initial_flag,
            placeholder=PlainTextObject(text="the flag's key, such as new_checkout"),
        )
    options = [Option(text=PlainTextObject(text=clip(k, OPTION_TEXT_LIMIT)), value=k)
               for k in keys]
    initial = next((o for o in options if o.value == initial_flag), None)
    return StaticSelectElement(
        action_id=InputId.START_FLAG.value,
        placeholder=PlainTextObject(text="Choose a flag"),
        options=options,
        initial_option=initial,
    )


def start_modal(flag_keys: Sequence[str], initial_flag: str | None = None) -> View:
    """The form behind `/release start`: which flag, and its new value as JSON."""
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.START_FLAG.value,
            label=PlainTextObject(text="Flag"),
            element=_flag_element(flag_keys, initial_flag),
        ),
        InputBlock(
            block_id=BlockId.START_VALUE.value,
            label=PlainTextObject(text="New value (JSON)"),
            element=PlainTextInputElement(
                action_id=InputId.START_VALUE.value,
                multiline=True,
                placeholder=PlainTextObject(text='true or false, or an object like {"limit": 5}'),
            ),
            hint=PlainTextObject(
                text="A feature gate takes true or false; a dynamic config takes a JSON object."
            ),
        ),
        context("The release starts at once and runs through the flag's pipeline, phase by "
                "phase; its status message appears in the pipeline's channel."),
    ]
    view = View(
        type="modal",
        callback_id=CallbackId.START_RELEASE.value,
        title=PlainTextObject(text="Start a release"),
        submit=PlainTextObject(text="Start"),
        close=PlainTextObject(text="Cancel"),
        blocks=checked(blocks, MODAL_BLOCKS),
    )
    view.to_dict()
    return view


def start_values_from_view(state: Mapping[str, Any]) -> tuple[str, str]:
    """(flag key, value as JSON text) from a submitted start form; ValueError when one is empty."""
    flag = _input(state, BlockId.START_FLAG.value, InputId.START_FLAG.value)
    value = _input(state, BlockId.START_VALUE.value, InputId.START_VALUE.value)
    if flag is None:
        raise ValueError("Choose the flag to release.")
    if value is None:
        raise ValueError("Give the new value as JSON: true or false, or an object.")
    return flag, value
