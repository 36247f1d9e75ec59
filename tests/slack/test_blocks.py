"""The release status message: golden JSON per state, controls per state, Slack's limits.

Releases are built directly from core models on a three-phase pipeline: Staging (30m bake) →
Production canary (production, 10% of EU/US units, 2 approvals from @release-approvers, 2h bake)
→ Production (1 approval from @release-approvers or @release-managers). `NOW` is fixed.

Golden files live in tests/slack/golden/; run with UPDATE_GOLDEN=1 to rewrite them after a
deliberate change, and read the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from release_bot.bot.slack.ids import ActionId, BlockId, Target
from release_bot.bot.slack.views import (
    ApprovalAsk,
    ReleaseSnapshot,
    action_reply_text,
    approval_needed_text,
    ending_text,
    refusal_blocks,
    status_blocks,
    status_text,
)
from release_bot.bot.slack.views import status as status_module
from release_bot.core.machine import allowed_actions, approvals
from release_bot.core.models import (
    Action,
    Approval,
    ApprovalGate,
    FlagKind,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
)
from release_bot.core.sentences import say

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
STARTED = NOW - timedelta(hours=3)
TRIGGERER, ALICE, BOB = "U0TRIG", "U0ALICE", "U0BOB"
APPROVERS, MANAGERS = "@release-approvers", "@release-managers"
MENTIONS = {APPROVERS: "S0APPROVE"}
PERMALINK = "https://example.slack.com/archives/C0RELEASES/p1736150400000100"

D, W, B, P = PhaseStatus.DONE, PhaseStatus.AWAITING_APPROVAL, PhaseStatus.BAKING, PhaseStatus.PAUSED
PEND, REV, CAN = PhaseStatus.PENDING, PhaseStatus.REVERTED, PhaseStatus.CANCELLED


# --- builders (imported by the other test_blocks_* modules) ----------------------------------

def pipeline(*phases: Phase) -> Pipeline:
    if not phases:
        phases = (
            Phase(name="Staging", environments=("staging",), bake=timedelta(minutes=30)),
            Phase(
                name="Production canary",
                environments=("production",),
                percentage=10,
                match={"region": ("eu-west", "us-east")},
                approval=ApprovalGate(groups=(APPROVERS,), required=2),
                bake=timedelta(hours=2),
            ),
            Phase(
                name="Production",
                environments=("production",),
                approval=ApprovalGate(groups=(APPROVERS, MANAGERS), required=1),
            ),
        )
    return Pipeline(name="standard", phases=phases, channel="C0RELEASES")


def release(state: ReleaseState, phase: int, statuses: tuple[PhaseStatus, ...],
            **changes: Any) -> Release:
    base = Release(
        id=42,
        flag_key="new_checkout",
        pipeline=changes.pop("pipeline", None) or pipeline(),
        from_version=1,
        to_version=2,
        triggered_by=TRIGGERER,
        created_at=STARTED,
        state=state,
        phase=phase,
        phase_statuses=statuses,
    )
    return replace(base, **changes)


def gate_snap(r: Release, **kw: Any) -> ReleaseSnapshot:
    kw.setdefault("mentions", MENTIONS)
    return ReleaseSnapshot(release=r, kind=FlagKind.GATE, old_value=False, new_value=True, **kw)


def awaiting() -> ReleaseSnapshot:
    """Waiting for the canary's approval, 1 of 2 in (Alice)."""
    return gate_snap(release(
        ReleaseState.AWAITING_APPROVAL, 1, (D, W, PEND),
        approvals=(Approval(1, ALICE, NOW - timedelta(minutes=10)),),
    ))


def baking() -> ReleaseSnapshot:
    """The canary is live with 1h30m of its bake left."""
    return gate_snap(release(
        ReleaseState.BAKING, 1, (D, B, PEND),
        bake_ends_at=NOW + timedelta(hours=1, minutes=30),
        approvals=(Approval(1, ALICE, NOW - timedelta(hours=1)),
                   Approval(1, BOB, NOW - timedelta(minutes=30))),
    ))


def paused() -> ReleaseSnapshot:
    """The canary's bake timer is stopped with 45m left."""
    return gate_snap(release(
        ReleaseState.PAUSED, 1, (D, P, PEND), remaining=timedelta(minutes=45),
    ))


def completed() -> ReleaseSnapshot:
    return gate_snap(release(ReleaseState.COMPLETED, 2, (D, D, D), ended_at=NOW))


def aborted() -> ReleaseSnapshot:
    return gate_snap(release(ReleaseState.ABORTED, 1, (REV, REV, CAN), ended_at=NOW))


OLD_CONFIG = {
    "checkout": {"max_items": 10, "currency": "EUR", "retries": 3},
    "banner": "Welcome <b>back</b> & enjoy",
    "legacy_flow": True,
}
NEW_CONFIG = {
    "checkout": {"max_items": 25, "currency": "EUR", "timeout_ms": 1500},
    "banner": "Welcome back",
    "experiments": ["a", "b"],
}


def config_snap(old: Any = None, new: Any = None, r: Release | None = None) -> ReleaseSnapshot:
    return ReleaseSnapshot(
        release=r or release(ReleaseState.BAKING, 0, (B, PEND, PEND),
                             bake_ends_at=NOW + timedelta(minutes=20)),
        kind=FlagKind.CONFIG,
        old_value=OLD_CONFIG if old is None else old,
        new_value=NEW_CONFIG if new is None else new,
        mentions=MENTIONS,
    )


STATES = {
    "awaiting_approval": awaiting,
    "baking": baking,
    "paused": paused,
    "completed": completed,
    "aborted": aborted,
    "config_diff": config_snap,
}


def dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def controls_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every interactive element anywhere in the blocks."""
    found = []
    for block in blocks:
        found += block.get("elements", []) if block["type"] == "actions" else []
        if "accessory" in block:
            found.append(block["accessory"])
    return [e for e in found if "action_id" in e]


def assert_golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert json.loads(path.read_text(encoding="utf-8")) == data, (
        f"{name} differs from {path}; if the change is deliberate, rerun with UPDATE_GOLDEN=1"
    )


# --- golden ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(STATES))
def test_status_blocks_match_golden(name: str) -> None:
    assert_golden(f"status_{name}", dicts(status_blocks(STATES[name](), NOW)))


# --- what each state shows -------------------------------------------------------------------

def test_awaiting_approval_shows_progress_groups_and_who_approved() -> None:
    blocks = dicts(status_blocks(awaiting(), NOW))
    text = all_text(blocks)
    assert blocks[0] == {"type": "header", "block_id": BlockId.HEADER.value,
                         "text": {"type": "plain_text", "text": "new_checkout · feature gate"}}
    assert "*Waiting for approval* of phase *Production canary*" in text
    assert "1 of 2 approvals from <!subteam^S0APPROVE> (approved by <@U0ALICE>)" in text
    # A handle without a known group id is shown as plain text, not as a broken mention.
    assert "needs 1 approval from <!subteam^S0APPROVE> or @release-managers" in text
    assert "started by <@U0TRIG>" in text
    assert "pipeline *standard*" in text and "*Release #42*" in text
    assert "`false` → `true` (version 1 → 2)" in text


def test_scope_of_each_phase_is_shown() -> None:
    phases = section_texts(dicts(status_blocks(awaiting(), NOW)))[-1]
    assert ":white_check_mark: 1. *Staging* · staging — done" in phases
    assert "production, 10% of units, where region is eu-west or us-east" in phases
    assert "not started" in phases and "bakes 30m" not in phases  # Staging already done


def test_baking_shows_the_end_time_in_each_readers_time_zone() -> None:
    text = all_text(dicts(status_blocks(baking(), NOW)))
    ends = int((NOW + timedelta(hours=1, minutes=30)).timestamp())
    assert f"<!date^{ends}^{{date_short_pretty}} at {{time}}|2025-01-06 10:30 UTC>" in text
    assert "(1h30m left), then phase *Production* waits for approval" in text


def test_paused_shows_the_time_left_and_that_live_phases_stay_live() -> None:
    text = all_text(dicts(status_blocks(paused(), NOW)))
    assert "*Paused* in phase *Production canary* with 45m of bake left" in text
    assert "the live phases stay live" in text


@pytest.mark.parametrize(("make", "word"), [(completed, "Completed"), (aborted, "Aborted")])
def test_terminal_states_say_when_they_ended(make: Any, word: str) -> None:
    blocks = dicts(status_blocks(make(), NOW))
    stamp = int(NOW.timestamp())
    assert f"*{word}* <!date^{stamp}^{{date_short_pretty}} at {{time}}|2025-01-06 09:00 UTC>" in (
        all_text(blocks)
    )


def test_aborted_phases_read_reverted_and_cancelled() -> None:
    text = all_text(dicts(status_blocks(aborted(), NOW)))
    assert text.count("— reverted") == 2 and "cancelled (never went live)" in text


def test_config_diff_lists_added_removed_and_changed_keys_escaped() -> None:
    text = section_texts(dicts(status_blocks(config_snap(), NOW)))[1]
    assert text.splitlines() == [
        "*Change* (version 1 → 2):",
        "• changed `banner`: `\"Welcome &lt;b&gt;back&lt;/b&gt; &amp; enjoy\"` → "
        "`\"Welcome back\"`",
        "• changed `checkout.max_items`: `10` → `25`",
        "• removed `checkout.retries` (was `3`)",
        "• added `checkout.timeout_ms` = `1500`",
        "• added `experiments` = `[\"a\",\"b\"]`",
        "• removed `legacy_flow` (was `true`)",
    ]
    header = dicts(status_blocks(config_snap(), NOW))[0]["text"]["text"]
    assert header == "new_checkout · dynamic config"


def test_status_text_is_a_plain_sentence() -> None:
    assert status_text(awaiting()) == (
        "Release #42 of new_checkout (false → true): waiting for approval of phase "
        "Production canary (1 of 2)"
    )
    assert status_text(completed()).endswith(": completed")


# --- controls --------------------------------------------------------------------------------

ACTIVE = {"awaiting_approval": awaiting, "baking": baking, "paused": paused}


@pytest.mark.parametrize("name", list(ACTIVE))
def test_controls_match_the_allowed_actions_and_target_this_release_and_phase(name: str) -> None:
    snap = ACTIVE[name]()
    blocks = dicts(status_blocks(snap, NOW))
    actions_blocks = [b for b in blocks if b["type"] == "actions"]
    assert len(actions_blocks) == 1 and actions_blocks[0]["block_id"] == BlockId.CONTROLS.value
    offered: list[Action] = []
    for element in controls_of(blocks):
        values = [o["value"] for o in element.get("options", [])] or [element["value"]]
        for value in values:
            target = Target.decode(value)
            assert (target.release_id, target.phase) == (42, snap.release.phase)
            assert len(value) <= 150
            offered.append(target.action)
        if element["type"] == "overflow":
            assert element["action_id"] == ActionId.MORE.value
            assert 2 <= len(element["options"]) <= 5
            assert Action.APPROVE.value not in str(element["options"])
        elif Target.decode(element["value"]).action is Action.APPROVE:
            assert element["action_id"] == ActionId.APPROVE.value
            assert element["style"] == "primary" and "confirm" in element
    assert offered == list(allowed_actions(snap.release.state))


@pytest.mark.parametrize("make", [completed, aborted])
def test_terminal_states_have_no_controls(make: Any) -> None:
    blocks = dicts(status_blocks(make(), NOW))
    assert controls_of(blocks) == []
    assert all(b["type"] != "actions" for b in blocks)


def test_a_single_extra_action_gets_a_button_not_a_one_option_overflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(status_module, "allowed_actions",
                        lambda state: (Action.APPROVE, Action.ABORT))
    elements = controls_of(dicts(status_blocks(awaiting(), NOW)))
    assert [e["type"] for e in elements] == ["button", "button"]
    more = elements[1]
    assert more["action_id"] == ActionId.MORE.value
    assert more["value"] == Target(Action.ABORT, 42, 1).encode()
    assert more["style"] == "danger" and more["text"]["text"] == "Abort"


def test_approve_confirmation_says_which_phase_goes_live_where_and_n_of_m() -> None:
    approve = controls_of(dicts(status_blocks(awaiting(), NOW)))[0]
    confirm = approve["confirm"]
    assert confirm["title"]["text"] == "Approve phase Production canary?"
    assert confirm["text"]["type"] == "plain_text"  # Slack documents plain_text only here
    assert "approval 2 of 2" in confirm["text"]["text"]
    assert "goes live in production, 10% of units" in confirm["text"]["text"]
    assert "bakes for 2h" in confirm["text"]["text"]
    assert confirm["style"] == "primary"


def test_approve_confirmation_when_more_approvals_are_still_needed() -> None:
    snap = gate_snap(release(ReleaseState.AWAITING_APPROVAL, 1, (D, W, PEND)))
    text = controls_of(dicts(status_blocks(snap, NOW)))[0]["confirm"]["text"]["text"]
    assert "approval 1 of 2" in text and "once 1 more person approve" in text


# --- limits ----------------------------------------------------------------------------------

def _long_phase(i: int) -> Phase:
    return Phase(
        name=f"Phase {i:02d} " + "with a rather long descriptive name " * 3,
        environments=tuple(f"region-{j}-{i}" for j in range(8)),
        percentage=float(i * 5),
        match={"country": tuple(f"C{k}" for k in range(30)), "plan": ("free", "pro")},
        approval=ApprovalGate(groups=(APPROVERS, MANAGERS, "@qa-leads"), required=3),
        bake=timedelta(hours=1, minutes=i),
    )


@pytest.mark.parametrize("count", [20, 400])
def test_a_long_pipeline_stays_within_slacks_limits(count: int) -> None:
    phases = tuple(_long_phase(i) for i in range(count))
    statuses = (D,) * 9 + (B,) + (PEND,) * (count - 10)
    snap = gate_snap(release(ReleaseState.BAKING, 9, statuses, pipeline=pipeline(*phases),
                             bake_ends_at=NOW + timedelta(minutes=5)))
    blocks = dicts(status_blocks(snap, NOW))
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in section_texts(blocks))
    text = all_text(blocks)
    if count == 20:
        assert "20. *Phase 19" in text  # every phase is shown
    else:
        assert "more phase" in text  # the rest is summarised, never cut off silently
    assert controls_of(blocks)  # the controls survive


def test_a_2500_character_config_stays_within_a_section() -> None:
    new = {f"key_{i:03d}": "v" * 40 for i in range(50)}
    assert len(json.dumps(new)) >= 2500
    blocks = dicts(status_blocks(config_snap(old={}, new=new), NOW))
    change = section_texts(blocks)[1]
    assert len(change) <= 3000
    shown = change.count("• added")
    assert shown >= 40  # as many as fit, then a count of the rest
    assert change.splitlines()[-1] == f"… and {50 - shown} more changes"


def test_a_huge_config_is_summarised_not_cut_mid_token() -> None:
    new = {f"key_{i:04d}": {"nested": "x" * 300, "n": i} for i in range(400)}
    old = {f"key_{i:04d}": {"nested": "y", "n": i} for i in range(400)}
    blocks = dicts(status_blocks(config_snap(old=old, new=new), NOW))
    change = section_texts(blocks)[1]
    assert len(change) <= 3000
    assert change.splitlines()[-1].startswith("… and ") and change.endswith("more changes")
    assert all(line.count("`") % 2 == 0 for line in change.splitlines())


def test_long_names_are_clipped_to_the_header_limit() -> None:
    snap = gate_snap(replace(awaiting().release, flag_key="k" * 400))
    header = dicts(status_blocks(snap, NOW))[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("… · feature gate")


# --- replies ---------------------------------------------------------------------------------

def test_action_reply_names_the_actor_and_quotes_the_reason_escaped() -> None:
    approved = say("approved phase {phase:name} ({got} of {required})", phase="Canary <1>",
                   got=1, required=2)
    text = action_reply_text(ALICE, Action.APPROVE, approved, None)
    assert text.endswith("<@U0ALICE> approved phase *Canary &lt;1&gt;* (1 of 2)")
    aborted_text = action_reply_text(
        BOB, Action.ABORT, say("aborted the release"), "errors spiked <!channel>\nsee dashboard"
    )
    assert aborted_text.splitlines()[1:] == ["> errors spiked &lt;!channel&gt;", "> see dashboard"]


def test_refusal_without_a_release_is_one_sentence() -> None:
    blocks = dicts(refusal_blocks("You can't Abort release #42.", None, NOW))
    assert len(blocks) == 1 and "You can't Abort release #42." in blocks[0]["text"]["text"]


def test_refusal_with_a_release_shows_its_status_without_stale_controls() -> None:
    snap = replace(awaiting(), permalink=PERMALINK)
    message = "Phase *Production canary* is waiting for approval — use Approve or Full Roll Out."
    blocks = dicts(refusal_blocks(message, snap, NOW))
    assert message in blocks[0]["text"]["text"]
    text = all_text(blocks)
    assert "*Waiting for approval* of phase *Production canary*" in text
    assert f"<{PERMALINK}|Open the status message>" in text
    assert controls_of(blocks) == [] and len(blocks) <= 50


def test_approval_needed_mentions_the_groups_and_says_what_approval_does() -> None:
    snap = replace(awaiting(), permalink=PERMALINK)
    release = snap.release
    ask = ApprovalAsk(release.phase, ("@release-approvers",), approvals(release, release.phase))
    text = approval_needed_text(snap, ask)
    assert text.startswith(":lock: <!subteam^S0APPROVE>:")
    assert "phase *Production canary* of release #42 of `new_checkout`" in text
    assert "1 of 2 approvals so far" in text
    assert "puts it live in production, 10% of units, where region is eu-west or us-east" in text
    assert "bakes for 2h" in text and f"<{PERMALINK}|" in text


def test_ending_text_says_what_each_environment_serves_now() -> None:
    assert "`true` is now the base value in staging, production" in ending_text(completed())
    assert "pre-release value (`false`) again" in ending_text(aborted())
