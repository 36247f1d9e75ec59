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
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from release_bot.bot.slack.ids import BlockId, CallbackId, Confirmation, InputId, Target
from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.bot.slack.views.status import (
    NEXT_APPROVER,
    REASON_LIMIT,
    approve_words,
    checked,
    context,
    mrkdwn,
)
from release_bot.bot.slack.views.texts import (
    SECTION_LIMIT,
    approval_groups,
    clip,
    code,
    compact,
    effect_words,
    escape,
    join_words,
    mrkdwn_of,
    phase_name,
    plural,
    principals,
    release_ref,
    scope,
    slack_date,
    state_line,
)
from release_bot.core.durations import format_duration
from release_bot.core.machine import Preview, approvals, preview
from release_bot.core.models import Action, FlagKind, Release

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


def _names(release: Release, indexes: Sequence[int]) -> str:
    return join_words([phase_name(release, i) for i in indexes], "and")


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


def _envs(release: Release) -> str:
    return escape(", ".join(release.pipeline.environments))


def _left_words(left: timedelta | None) -> str:
    return f"*{format_duration(left)}*" if left is not None else "the time"


def _pause(snap: ReleaseSnapshot, seen: Preview, now: datetime) -> _Wording:
    release = snap.release
    name = phase_name(release, seen.phase)
    text = (
        f"Pause the bake timer of phase {name} ({release_ref(snap)}).\n\n"
        f"Phase {name} *stays live* in {scope(release.current_phase)} — nothing is taken down; "
        f"only the timer stops, with {_left_words(seen.bake_left)} left. Nothing moves on until "
        "someone unpauses, and the timer then resumes with the time that was left."
    )
    return _Wording("Pause the bake timer?", "Pause timer", text)


def _unpause(snap: ReleaseSnapshot, seen: Preview, now: datetime) -> _Wording:
    release = snap.release
    text = (
        f"Resume the bake timer of phase {phase_name(release, seen.phase)} "
        f"({release_ref(snap)}) with the {_left_words(seen.bake_left)} that was left."
    )
    if seen.after.bake_ends_at is not None and seen.then is not None:
        ends = slack_date(seen.after.bake_ends_at)
        text += f" When it runs out — around {ends} — {effect_words(release, seen.then)}."
    return _Wording("Resume the bake timer?", "Unpause", text)


def _skip(snap: ReleaseSnapshot, seen: Preview, now: datetime) -> _Wording:
    release = snap.release
    name, left = phase_name(release, seen.phase), seen.bake_left
    text = f"End the bake of phase {name} now, as if its timer had run out"
    text += f" ({format_duration(left)} early).\n\n" if left is not None else ".\n\n"
    effect = seen.effect
    for i in effect.goes_live:
        text += (f"Next, phase {phase_name(release, i)} goes live right away in "
                 f"{scope(release.pipeline.phases[i])}. ")
    if effect.waits_for is not None:
        waiting = release.pipeline.phases[effect.waits_for]
        count = approvals(release, effect.waits_for)
        groups = principals(approval_groups(release, effect.waits_for), snap.mentions)
        text += (
            f"Next, phase {phase_name(release, effect.waits_for)} ({scope(waiting)}) *waits for "
            f"approval*: {plural(count.required, 'approval')} from {groups}. "
        )
    if effect.completes:
        last = not effect.goes_live
        text += (
            f"{'This is the last phase: the' if last else 'Then the'} release completes and "
            f"{_new_value(snap)} becomes the base value in *{_envs(release)}*."
        )
    else:
        text += "Skipping never bypasses an approval gate: every gate still applies."
    return _Wording("Skip the bake?", "Skip bake", text.strip())


def _full_rollout(snap: ReleaseSnapshot, seen: Preview, now: datetime) -> _Wording:
    release = snap.release
    live = seen.effect.goes_live
    text = "Put every remaining phase live at once"
    text += f": {_names(release, live)}." if live else "."
    text += (
        f" The release completes, and {_new_value(snap)} becomes the base value in "
        f"*{_envs(release)}* for every unit."
    )
    if seen.bypassed_gates:
        text += f" It does not wait for the approvals of {_names(release, seen.bypassed_gates)}."
    if seen.bake_left is not None:
        text += f" The bake of phase {phase_name(release, seen.phase)} ends now."
    text += (
        "\n\n:warning: This cannot be undone: to change the value again, start a new release."
    )
    return _Wording("Full roll out?", "Roll out now", text)


def _abort(snap: ReleaseSnapshot, seen: Preview, now: datetime) -> _Wording:
    down = seen.effect.taken_down
    text = (
        ":warning: *This cannot be undone.*\n\n"
        f"Abort {release_ref(snap)}: every environment goes back to its pre-release value — "
        f"{_old_value(snap)} in *{_envs(snap.release)}*. "
    )
    text += (
        f"Live now, and taken down: {_names(snap.release, down)}. " if down
        else "Nothing is live yet. "
    )
    text += "The release ends as aborted; starting a new release is the only way on."
    return _Wording("Abort the release?", "Abort release", text,
                    close="Keep it running", needs_reason=True)


def _approve(snap: ReleaseSnapshot, seen: Preview, now: datetime) -> _Wording:
    return _Wording("Approve this phase?", "Approve", mrkdwn_of(approve_words(snap, now)))


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
    seen = preview(release, target.action, NEXT_APPROVER, now)
    wording = _WORDINGS[target.action](snap, seen, now)
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


def _object(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def _values(view_state: Mapping[str, Any]) -> Mapping[str, Any]:
    """`state.values` of a submitted view, given the state or the whole view."""
    if "values" in view_state:
        return _object(view_state["values"])
    return _object(_object(view_state.get("state")).get("values"))


def form_fields(view: Mapping[str, Any]) -> set[str]:
    """The block ids of the inputs a submitted view holds."""
    return set(_values(view))


def _input(view_state: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    entry = _object(_object(_values(view_state).get(block_id)).get(action_id))
    selected = entry.get("selected_option")
    value = selected.get("value") if isinstance(selected, Mapping) else entry.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def reason_from_view(view_state: Mapping[str, Any]) -> str | None:
    """The abort reason typed into a submitted confirmation modal; None when there is none."""
    return _input(view_state, BlockId.REASON.value, InputId.REASON.value)


def notice_modal(text: str) -> View:
    """A modal that only says `text` (plain): what a form turns into when it cannot go on."""
    view = View(
        type="modal",
        title=PlainTextObject(text="release-bot"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=PlainTextObject(text=clip(text, SECTION_LIMIT)))],
    )
    view.to_dict()
    return view


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
