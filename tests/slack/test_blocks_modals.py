"""Confirmation modals for actions picked from ⋯, their metadata, and the start form."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from test_blocks import (
    NOW,
    PEND,
    B,
    D,
    awaiting,
    baking,
    gate_snap,
    paused,
    pipeline,
    release,
)

from release_bot.bot.slack.ids import BlockId, CallbackId, Confirmation, InputId, Target, Unreadable
from release_bot.bot.slack.views import (
    ReleaseSnapshot,
    confirm_modal,
    reason_from_view,
    start_modal,
    start_values_from_view,
)
from release_bot.core.models import Action, ReleaseState

CHANNEL, TS = "C0RELEASES", "1736150400.000100"


def modal(snap: ReleaseSnapshot, action: Action, phase: int | None = None) -> dict[str, Any]:
    target = Target(action, 42, snap.release.phase if phase is None else phase)
    return confirm_modal(snap, target, CHANNEL, TS, NOW).to_dict()


def body(view: dict[str, Any]) -> str:
    return view["blocks"][0]["text"]["text"]


def inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if b["type"] == "input"]


@pytest.mark.parametrize(("make", "action"), [
    (baking, Action.PAUSE), (paused, Action.UNPAUSE), (baking, Action.SKIP),
    (baking, Action.FULL_ROLLOUT), (baking, Action.ABORT), (awaiting, Action.ABORT),
    (awaiting, Action.FULL_ROLLOUT), (awaiting, Action.APPROVE),
])
def test_every_confirmation_modal_is_valid_and_carries_its_target(make: Any,
                                                                  action: Action) -> None:
    view = modal(make(), action)
    assert view["type"] == "modal" and view["callback_id"] == CallbackId.CONFIRM_ACTION.value
    for key in ("title", "submit", "close"):
        assert view[key]["type"] == "plain_text" and 1 <= len(view[key]["text"]) <= 24
    assert json.loads(view["private_metadata"]) == {
        "target": Target(action, 42, make().release.phase).encode(), "channel": CHANNEL, "ts": TS,
    }
    assert (inputs(view) != []) == (action is Action.ABORT)


def test_pause_says_the_phase_stays_live_and_how_much_time_is_left() -> None:
    view = modal(baking(), Action.PAUSE)
    text = body(view)
    assert view["title"]["text"] == "Pause the bake timer?"
    assert "Phase *Production canary* *stays live* in production, 10% of units" in text
    assert "only the timer stops, with *1h30m* left" in text
    assert "resumes with the time that was left" in text


def test_unpause_resumes_with_the_time_that_was_left_and_says_what_comes_next() -> None:
    text = body(modal(paused(), Action.UNPAUSE))
    ends = int((NOW + timedelta(minutes=45)).timestamp())
    assert "with the *45m* that was left" in text
    assert f"<!date^{ends}^" in text and "phase *Production* waits for approval" in text


def test_skip_ends_the_bake_names_the_next_phase_and_keeps_its_gate() -> None:
    text = body(modal(baking(), Action.SKIP))
    assert "End the bake of phase *Production canary* now, as if its timer had run out" in text
    assert "(1h30m early)" in text
    assert "Next, phase *Production* (production) *waits for approval*" in text
    assert "1 approval from <!subteam^S0APPROVE> or @release-managers" in text
    assert "never bypasses an approval gate" in text


def test_skip_into_an_ungated_phase_says_it_goes_live() -> None:
    staging, canary, production = pipeline().phases
    ungated = gate_snap(release(
        ReleaseState.BAKING, 0, (B, PEND, PEND), bake_ends_at=NOW + timedelta(minutes=5),
        pipeline=pipeline(staging, replace(canary, approval=None), production),
    ))
    text = body(modal(ungated, Action.SKIP))
    assert "Next, phase *Production canary* goes live right away in production, 10% of units" in (
        text
    )


def test_skip_of_the_last_phase_completes_the_release() -> None:
    snap = gate_snap(release(ReleaseState.BAKING, 2, (D, D, B),
                             bake_ends_at=NOW + timedelta(minutes=5)))
    assert "This is the last phase: the release completes" in body(modal(snap, Action.SKIP))


def test_full_rollout_names_remaining_phases_and_the_environments_whose_base_changes() -> None:
    view = modal(awaiting(), Action.FULL_ROLLOUT)
    text = body(view)
    assert "Put every remaining phase live at once: *Production canary* and *Production*" in text
    assert "`true` (version 2) becomes the base value in *staging, production*" in text
    assert "does not wait for the approvals of *Production canary* and *Production*" in text
    assert "cannot be undone" in text
    assert view["submit"]["text"] == "Roll out now"


def test_abort_reverts_everything_is_irreversible_and_requires_a_reason() -> None:
    view = modal(baking(), Action.ABORT)
    text = body(view)
    assert text.startswith(":warning: *This cannot be undone.*")
    assert "every environment goes back to its pre-release value" in text
    assert "`false` (version 1) in *staging, production*" in text
    assert "Live now, and taken down: *Staging* and *Production canary*" in text
    [reason] = inputs(view)
    assert reason["block_id"] == BlockId.REASON.value
    assert reason["element"]["action_id"] == InputId.REASON.value
    assert reason["element"]["type"] == "plain_text_input" and reason["element"]["multiline"]
    assert reason.get("optional", False) is False
    assert view["submit"]["text"] == "Abort release"


def test_abort_before_anything_is_live_says_so() -> None:
    snap = gate_snap(release(ReleaseState.AWAITING_APPROVAL, 0, (PEND, PEND, PEND)))
    assert "Nothing is live yet." in body(modal(snap, Action.ABORT))


def test_a_target_for_another_release_or_phase_is_refused() -> None:
    with pytest.raises(ValueError, match="release #7"):
        confirm_modal(baking(), Target(Action.PAUSE, 7, 1), None, None, NOW)
    with pytest.raises(ValueError, match="no phase 9"):
        confirm_modal(baking(), Target(Action.PAUSE, 42, 9), None, None, NOW)


def test_metadata_round_trips() -> None:
    for channel, ts in [(CHANNEL, TS), (None, None)]:
        view = confirm_modal(baking(), Target(Action.SKIP, 42, 1), channel, ts, NOW)
        assert view.private_metadata is not None
        assert Confirmation.decode(view.private_metadata) == Confirmation(
            Target(Action.SKIP, 42, 1), channel, ts
        )


@pytest.mark.parametrize("metadata", [
    "", "not json", "[]", "null", '{"channel": "C1"}', '{"target": 5}',
    '{"target": "pause:x:1"}', '{"target": "explode:1:1"}', '{"target": "pause:1"}',
    '{"target": "pause:1:1", "channel": 5}', '{"target": "pause:1:1", "ts": ["1"]}',
])
def test_malformed_metadata_is_unreadable(metadata: str) -> None:
    with pytest.raises(Unreadable):
        Confirmation.decode(metadata)


def _state(block: str, action: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {"values": {block: {action: entry}}}


def test_reason_is_read_from_the_submitted_state() -> None:
    state = _state(BlockId.REASON.value, InputId.REASON.value,
                   {"type": "plain_text_input", "value": "  checkout errors doubled \n"})
    assert reason_from_view(state) == "checkout errors doubled"
    assert reason_from_view({"state": state}) == "checkout errors doubled"  # the whole view
    blank = _state(BlockId.REASON.value, InputId.REASON.value,
                   {"type": "plain_text_input", "value": "   "})
    assert reason_from_view(blank) is None
    assert reason_from_view({"values": {}}) is None


# --- start form ------------------------------------------------------------------------------

def test_start_modal_offers_the_flags_in_a_select() -> None:
    view = start_modal(["new_checkout", "search_limits"], initial_flag="search_limits").to_dict()
    assert view["callback_id"] == CallbackId.START_RELEASE.value
    flag, value = inputs(view)
    assert flag["block_id"] == BlockId.START_FLAG.value
    assert flag["element"]["type"] == "static_select"
    assert flag["element"]["action_id"] == InputId.START_FLAG.value
    assert [o["value"] for o in flag["element"]["options"]] == ["new_checkout", "search_limits"]
    assert flag["element"]["initial_option"]["value"] == "search_limits"
    assert value["block_id"] == BlockId.START_VALUE.value
    assert value["element"]["action_id"] == InputId.START_VALUE.value
    assert "JSON" in value["label"]["text"]


@pytest.mark.parametrize("keys", [[], [f"flag_{i}" for i in range(101)], ["k" * 151]])
def test_start_modal_falls_back_to_a_text_input_when_a_select_cannot_hold_the_flags(
    keys: list[str],
) -> None:
    view = start_modal(keys).to_dict()
    assert inputs(view)[0]["element"]["type"] == "plain_text_input"


def test_start_values_are_read_from_a_select_or_a_text_input() -> None:
    value = {BlockId.START_VALUE.value: {InputId.START_VALUE.value: {"value": ' {"a": 1} '}}}
    selected = {BlockId.START_FLAG.value: {InputId.START_FLAG.value: {
        "type": "static_select", "selected_option": {"value": "new_checkout"}}}}
    typed = {BlockId.START_FLAG.value: {InputId.START_FLAG.value: {
        "type": "plain_text_input", "value": "search_limits"}}}
    assert start_values_from_view({"values": {**selected, **value}}) == (
        "new_checkout", '{"a": 1}')
    assert start_values_from_view({"values": {**typed, **value}}) == ("search_limits", '{"a": 1}')
    with pytest.raises(ValueError, match="flag"):
        start_values_from_view({"values": value})
    with pytest.raises(ValueError, match="JSON"):
        start_values_from_view({"values": selected})
