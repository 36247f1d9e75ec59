"""The guardrail in Slack: each check of the live phases, and the announcement of a stop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.bot.slack.views.texts import (
    code,
    mrkdwn_of,
    pack,
    phase_name,
    plural,
    principals,
    release_ref,
    safe,
    slack_date,
)
from release_bot.core.guardrails import BLIND_LIMIT, CheckView, live_checks
from release_bot.core.models import Action, Verdict
from release_bot.core.policy import allowed
from release_bot.core.sentences import Sentence

VERDICT_EMOJI = {
    Verdict.PASS: ":large_green_circle:",
    Verdict.FAIL: ":red_circle:",
    Verdict.NO_DATA: ":white_circle:",
    None: ":hourglass_flowing_sand:",
}
STOP_EMOJI = {Action.PAUSE: ":double_vertical_bar:", Action.ABORT: ":rotating_light:"}


def check_line(snap: ReleaseSnapshot, view: CheckView) -> str:
    """`🔴 *error rate* · phase *Canary* · `0.05` · fails if `> 0.01` · failed 1 of 2 in a row,
    <date>`: the last value, the threshold, the verdict and when it was measured."""
    check, state = view.check, view.state
    head = (f"{VERDICT_EMOJI[state.verdict]} *{safe(check.name)}* · phase "
            f"{phase_name(snap.release, view.phase)}")
    threshold = f"fails if {code(check.fail_if)}"
    if state.verdict is None or state.measured_at is None:
        first = f", first {slack_date(state.due_at)}" if state.due_at is not None else ""
        return f"{head} · {threshold} · not measured yet{first}"
    when = slack_date(state.measured_at)
    if state.verdict is Verdict.NO_DATA:
        why = f" ({safe(state.detail, 200)})" if state.detail else ""
        return (f"{head} · no data{why} · {threshold} · "
                f"{state.blind} of {BLIND_LIMIT} blind in a row, {when}")
    value = code(f"{state.value:g}") if state.value is not None else "no value"
    if state.verdict is Verdict.FAIL:
        return (f"{head} · {value} · {threshold} · failed {state.failures} of "
                f"{check.failures} in a row, {when}")
    return f"{head} · {value} · {threshold} · passed, {when}"


def check_texts(snap: ReleaseSnapshot, max_sections: int) -> list[str]:
    """Every check of the live phases as one line, in at most `max_sections` section texts."""
    views = live_checks(snap.release)
    if not views or max_sections < 1:
        return []
    chunks = pack(["*Checks*", *(check_line(snap, view) for view in views)])
    if len(chunks) > max_sections:
        kept = chunks[: max_sections - 1]
        shown_lines = sum(chunk.count("\n") + 1 for chunk in kept) - 1
        chunks = [*kept, f"… and {plural(len(views) - shown_lines, 'more check')}"]
    return chunks


def guardrail_text(snap: ReleaseSnapshot, data: Mapping[str, Any]) -> str:
    """The thread reply, broadcast to the channel, when the guardrail pauses or aborts: the
    phase's approvers mentioned, what was done and why."""
    release = snap.release
    phase = data.get("phase")
    if not isinstance(phase, int) or not 0 <= phase < len(release.pipeline.phases):
        phase = release.phase
    action = Action(str(data["action"]))
    groups = allowed(release.pipeline, Action.APPROVE, phase) or ()
    to = f"{principals(groups, snap.mentions)}: " if groups else ""
    done = mrkdwn_of(Sentence.from_data(data["sentence"]), snap.mentions)
    why = (mrkdwn_of(Sentence.from_data(data["why"]), snap.mentions) if "why" in data
           else safe(str(data.get("reason") or "a check failed"), 2000))
    return (f"{STOP_EMOJI.get(action, ':rotating_light:')} {to}the guardrail {done} — "
            f"{release_ref(snap)}, phase {phase_name(release, phase)} — because {why}.")
