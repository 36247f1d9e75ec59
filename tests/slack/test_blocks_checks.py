"""The guardrail in Slack: each check of the live phases in the status message, the bake it
holds and why, and the broadcast announcement of a pause or abort it made.

Built on test_blocks' pipeline, with checks on Staging and on the canary. Golden files as there
(UPDATE_GOLDEN=1 rewrites them).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from release_bot.bot.slack.views import guardrail_text, status_blocks
from release_bot.bot.slack.views.texts import short_state
from release_bot.core import machine
from release_bot.core.guardrails import action_reason
from release_bot.core.models import (
    Check,
    CheckState,
    NoticeKind,
    OnFail,
    Phase,
    PhaseStatus,
    Release,
    ReleaseState,
    Verdict,
)
from release_bot.core.sentences import say
from tests.slack.test_blocks import (
    NOW,
    PEND,
    B,
    D,
    P,
    all_text,
    assert_golden,
    dicts,
    gate_snap,
    pipeline,
    release,
    section_texts,
)

ERRORS = Check(name="error rate", query='sum(rate(http_errors_total{app="checkout"}[5m]))',
               comparison=">", threshold=0.01, every=timedelta(minutes=1), failures=2,
               on_fail=OnFail.ABORT)
LATENCY = Check(name="p99 latency", query="histogram_quantile(0.99, rate(lat_bucket[5m]))",
                comparison=">=", threshold=0.5, every=timedelta(seconds=30))
SATURATION = Check(name="saturation", query="max(cpu)", comparison=">", threshold=0.9,
                   every=timedelta(minutes=1), after=timedelta(minutes=5))
UP = Check(name="up", query="min(up)", comparison="<", threshold=1, every=timedelta(seconds=10))


def checked_pipeline(*canary_checks: Check) -> tuple[Phase, ...]:
    staging, canary, production = pipeline().phases
    return (replace(staging, checks=(UP,)),
            replace(canary, checks=canary_checks or (ERRORS, LATENCY, SATURATION)),
            production)


STATES = (
    CheckState(0, "up", NOW + timedelta(seconds=10), Verdict.PASS, 1.0,
               NOW - timedelta(seconds=2)),
    CheckState(1, "error rate", NOW + timedelta(minutes=1), Verdict.FAIL, 0.034,
               NOW - timedelta(seconds=5), failures=1),
    CheckState(1, "p99 latency", NOW + timedelta(seconds=30), Verdict.NO_DATA, None,
               NOW - timedelta(seconds=20), blind=2, detail="no series"),
    CheckState(1, "saturation", NOW + timedelta(minutes=3)),
)


def canary_baking(**changes: object) -> Release:
    return release(ReleaseState.BAKING, 1, (D, B, PEND), **{
        "pipeline": pipeline(*checked_pipeline()), "bake_ends_at": NOW + timedelta(hours=1),
        "checks": STATES, **changes})


def test_the_status_shows_each_check_of_the_live_phases() -> None:
    blocks = dicts(status_blocks(gate_snap(canary_baking()), NOW))
    assert_golden("status_checks", blocks)
    [checks] = [t for t in section_texts(blocks) if t.startswith("*Checks*")]
    up, errors, latency, saturation = checks.splitlines()[1:]
    assert up.startswith(":large_green_circle: *up* · phase *Staging* · `1` · fails if `&lt; 1`")
    assert "passed, <!date^" in up
    assert errors.startswith(":red_circle: *error rate* · phase *Production canary* · `0.034` · "
                             "fails if `&gt; 0.01` · failed 1 of 2 in a row, <!date^")
    assert latency.startswith(":white_circle: *p99 latency* · phase *Production canary* · "
                              "no data (no series) · fails if `&gt;= 0.5` · 2 of 3 blind in a row")
    assert saturation.startswith(":hourglass_flowing_sand: *saturation* · phase *Production "
                                 "canary* · fails if `&gt; 0.9` · not measured yet, first <!date^")


def test_checks_of_phases_not_live_are_not_shown() -> None:
    waiting = release(ReleaseState.AWAITING_APPROVAL, 1, (D, PhaseStatus.AWAITING_APPROVAL, PEND),
                      pipeline=pipeline(*checked_pipeline()), checks=STATES[:1])
    text = all_text(dicts(status_blocks(gate_snap(waiting), NOW)))
    assert "*up* · phase *Staging*" in text
    assert "error rate" not in text
    ended = replace(waiting, state=ReleaseState.ABORTED, ended_at=NOW)
    assert "*Checks*" not in all_text(dicts(status_blocks(gate_snap(ended), NOW)))


def test_a_held_bake_says_which_checks_hold_it_and_why() -> None:
    held = canary_baking(bake_ends_at=None, held_since=NOW - timedelta(minutes=4))
    blocks = dicts(status_blocks(gate_snap(held), NOW))
    assert_golden("status_held", blocks)
    summary = section_texts(blocks)[0]
    state = summary.splitlines()[1]
    assert state.startswith(":hourglass_flowing_sand: *Held* in phase *Production canary*: "
                            "its bake time ran out <!date^")
    assert "check *error rate* failed: 0.034 (fails if &gt; 0.01)" in state
    assert "check *p99 latency* has no data (no series; fails if &gt;= 0.5)" in state
    assert "check *saturation* has not been measured yet" in state
    assert "check *up*" not in state  # Staging's check does not hold the canary's bake
    assert "*live, held* since <!date^" in all_text(blocks)
    assert short_state(gate_snap(held), NOW).startswith(
        ":hourglass_flowing_sand: *Production canary* held by its checks since <!date^")


def test_many_checks_stay_within_slacks_limits() -> None:
    many = tuple(replace(ERRORS, name=f"check {i} " + "x" * 60) for i in range(120))
    states = tuple(CheckState(1, c.name, NOW, Verdict.FAIL, 0.5, NOW, failures=1) for c in many)
    r = release(ReleaseState.PAUSED, 1, (D, P, PEND), pipeline=pipeline(*checked_pipeline(*many)),
                remaining=timedelta(minutes=5), checks=states)
    blocks = dicts(status_blocks(gate_snap(r), NOW))
    texts = section_texts(blocks)
    assert texts[-1].startswith("… and ") and texts[-1].endswith(" more checks")
    shown = sum(t.count(" · phase *") for t in texts)
    assert f"… and {121 - shown} more checks" == texts[-1]  # 120 canary checks + Staging's
    assert any(t.startswith("*Phases*") for t in texts)


def stop_notice(act: OnFail, before: Release) -> dict[str, object]:
    """The ACTION_TAKEN notification the core writes when the guardrail acts."""
    state = replace(STATES[1], failures=2)
    transition = machine.guard(before, act, action_reason(ERRORS, state), NOW)
    assert transition is not None
    [notice] = [n for n in transition.notifications if n.kind is NoticeKind.ACTION_TAKEN]
    return dict(notice.data)


def test_an_abort_is_announced_to_the_phases_approvers_with_the_evidence() -> None:
    before = canary_baking()
    text = guardrail_text(gate_snap(before), stop_notice(OnFail.ABORT, before))
    assert text == (
        ":rotating_light: <!subteam^S0APPROVE>: the guardrail aborted the release; every "
        "environment serves its pre-release value again — release #42 of `new_checkout`, "
        "phase *Production canary* — because check *error rate* failed 2 time(s) in a row: "
        "query sum(rate(http_errors_total{app=\"checkout\"}[5m])) gave 0.034, which fails "
        "if &gt; 0.01."
    )


def test_a_pause_where_no_gate_names_approvers_mentions_nobody() -> None:
    before = release(ReleaseState.BAKING, 0, (B, PEND, PEND),
                     pipeline=pipeline(*checked_pipeline()), bake_ends_at=NOW + timedelta(1))
    data = stop_notice(OnFail.PAUSE, before)
    data["why"] = say("Alertmanager alert {alert:name} is firing: {summary:text}",
                      alert="CheckoutErrors", summary="errors <b>high</b>").data()
    text = guardrail_text(gate_snap(before), data)
    assert text.startswith(":double_vertical_bar: the guardrail paused the bake timer of phase "
                           "*Staging* with ")
    assert text.endswith("because Alertmanager alert *CheckoutErrors* is firing: errors "
                         "&lt;b&gt;high&lt;/b&gt;.")
