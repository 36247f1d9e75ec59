"""Words shared by every Slack view: escaping, dates, mentions, scopes, value changes, states.

Everything here returns Slack mrkdwn unless its name says `plain`. Text that comes from people
or config files (flag keys, phase names, values, reasons) is escaped and clipped before it is
put into a sentence, so a sentence is never cut in the middle of a `<…>` token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from release_bot.bot.slack.views.snapshot import ReleaseSnapshot
from release_bot.core.durations import format_duration
from release_bot.core.machine import (
    Approvals,
    Effect,
    after_bake,
    approvals,
    bake_left,
    effect_sentence,
)
from release_bot.core.models import Action, FlagKind, Phase, PhaseStatus, Release, ReleaseState
from release_bot.core.policy import allowed, is_user_id
from release_bot.core.sentences import Sentence, Words

SECTION_LIMIT = 3000
ELLIPSIS = "…"

NAME_LIMIT = 80
VALUE_LIMIT = 100
SCOPE_LIMIT = 200

STATUS_EMOJI = {
    PhaseStatus.PENDING: ":white_circle:",
    PhaseStatus.AWAITING_APPROVAL: ":lock:",
    PhaseStatus.BAKING: ":hourglass_flowing_sand:",
    PhaseStatus.PAUSED: ":double_vertical_bar:",
    PhaseStatus.DONE: ":white_check_mark:",
    PhaseStatus.SKIPPED: ":fast_forward:",
    PhaseStatus.ROLLED_OUT: ":rocket:",
    PhaseStatus.REVERTED: ":leftwards_arrow_with_hook:",
    PhaseStatus.CANCELLED: ":heavy_multiplication_x:",
}

STATE_EMOJI = {
    ReleaseState.AWAITING_APPROVAL: ":lock:",
    ReleaseState.BAKING: ":hourglass_flowing_sand:",
    ReleaseState.PAUSED: ":double_vertical_bar:",
    ReleaseState.COMPLETED: ":white_check_mark:",
    ReleaseState.ABORTED: ":no_entry:",
}


# --- plain helpers ---------------------------------------------------------------------------

def clip(text: str, limit: int) -> str:
    """`text`, cut to at most `limit` characters with an ellipsis when it is longer."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe(text: str, limit: int = NAME_LIMIT) -> str:
    """Outside text (a name, a key) clipped and escaped for mrkdwn."""
    return escape(clip(text, limit))


def code(text: str, limit: int = VALUE_LIMIT) -> str:
    """Outside text as inline code; backticks inside would end the span, so they become `'`."""
    return "`" + escape(clip(text.replace("`", "'"), limit)) + "`"


def compact(value: Any) -> str:
    """A value as one line of JSON (`true`, `{"a":1}`); `(none)` when there is no value."""
    if value is None:
        return "(none)"
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def join_words(items: Sequence[str], conjunction: str = "or") -> str:
    """`a`, `a or b`, `a, b or c`."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def kind_word(kind: FlagKind) -> str:
    """How a person calls a flag of this kind."""
    return "feature gate" if kind is FlagKind.GATE else "dynamic config"


def plural(count: int, word: str) -> str:
    """`1 approval`, `2 approvals`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- dates -----------------------------------------------------------------------------------

def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def slack_date(moment: datetime, tokens: str = "{date_short_pretty} at {time}") -> str:
    """A moment every reader sees in their own time zone; the fallback is UTC."""
    utc = _utc(moment)
    return f"<!date^{int(utc.timestamp())}^{tokens}|{utc:%Y-%m-%d %H:%M} UTC>"


def plain_date(moment: datetime) -> str:
    """A moment for plain-text places (notifications, confirmation dialogs): UTC."""
    return f"{_utc(moment):%Y-%m-%d %H:%M} UTC"


def left_words(release: Release, now: datetime) -> str:
    """`1h30m`: what is left of the current bake (running or paused)."""
    return format_duration(bake_left(release, now) or timedelta(0))


# --- people and groups -----------------------------------------------------------------------

def who(actor: str) -> str:
    """A user id as a mention; anything else (the bot itself) as escaped text."""
    return f"<@{actor}>" if is_user_id(actor) else safe(actor)


def principal(name: str, mentions: Mapping[str, str]) -> str:
    """A group handle, group id or user id as a Slack mention where one is possible."""
    if is_user_id(name):
        return f"<@{name}>"
    group_id = mentions.get(name)
    if group_id is None and name[:1] == "S" and name.isalnum() and name.isupper():
        group_id = name
    if group_id is not None:
        return f"<!subteam^{group_id}>"
    return safe(name)


def principals(names: Sequence[str], mentions: Mapping[str, str]) -> str:
    """Several principals joined with `or`; `anyone` when there are none."""
    if not names:
        return "anyone"
    return join_words([principal(n, mentions) for n in names])


def principals_plain(names: Sequence[str]) -> str:
    """Principals for plain text: handles as written, user ids as they are."""
    return join_words(list(names)) if names else "anyone"


# --- phases ----------------------------------------------------------------------------------

def scope_plain(phase: Phase) -> str:
    """`production, 10% of units, where country is NL or DE` (plain, not escaped)."""
    parts = [", ".join(phase.environments) or "no environment"]
    if phase.percentage is not None:
        parts.append(f"{phase.percentage:g}% of units")
    if phase.match:
        matches = [f"{key} is {join_words(list(values))}" for key, values in phase.match.items()]
        parts.append("where " + " and ".join(matches))
    return clip(", ".join(parts), SCOPE_LIMIT)


def scope(phase: Phase) -> str:
    """The phase's scope for mrkdwn."""
    return escape(scope_plain(phase))


def phase_name(release: Release, index: int) -> str:
    """A phase's name, bold, for mrkdwn."""
    return f"*{safe(release.pipeline.phases[index].name)}*"


def phase_name_plain(release: Release, index: int) -> str:
    """A phase's name for plain text."""
    return clip(release.pipeline.phases[index].name, NAME_LIMIT)


def approval_groups(release: Release, index: int) -> tuple[str, ...]:
    """The groups a phase's approval is asked of."""
    gate = release.pipeline.phases[index].approval
    return gate.groups if gate is not None else ()


def approval_progress(snap: ReleaseSnapshot, index: int, count: Approvals | None = None) -> str:
    """`1 of 2 approvals from <!subteam^S1> (approved by <@U1>)`; count defaults to now's."""
    release = snap.release
    count = count or approvals(release, index)
    groups = principals(approval_groups(release, index), snap.mentions)
    text = f"{count.got} of {plural(count.required, 'approval')} from {groups}"
    if count.approvers:
        text += f" (approved by {join_words([who(a) for a in count.approvers], 'and')})"
    return text


def effect_words(release: Release, effect: Effect) -> str:
    """What a move does, in mrkdwn: `phase *Canary* goes live, then the release completes`."""
    return SlackWords().render(effect_sentence(release, effect))


def phase_detail(snap: ReleaseSnapshot, index: int, now: datetime) -> str:
    """Where one phase stands, in a few words."""
    release = snap.release
    phase = release.pipeline.phases[index]
    status = release.phase_statuses[index]
    if status is PhaseStatus.PENDING:
        words = ["not started"]
        if phase.approval is not None:
            groups = principals(phase.approval.groups, snap.mentions)
            required = approvals(release, index).required
            words.append(f"needs {plural(required, 'approval')} from {groups}")
        if phase.bake > timedelta(0):
            words.append(f"bakes {format_duration(phase.bake)}")
        return ", ".join(words)
    if status is PhaseStatus.AWAITING_APPROVAL:
        return "*waiting for approval*: " + approval_progress(snap, index)
    if status is PhaseStatus.BAKING:
        if release.held_since is not None:
            return f"*live, held* since {slack_date(release.held_since)} until its checks pass"
        if release.bake_ends_at is None:
            return "*live, baking*"
        ends = release.bake_ends_at
        return f"*live, baking* until {slack_date(ends)} ({left_words(release, now)} left)"
    if status is PhaseStatus.PAUSED:
        return f"*live, paused* with {left_words(release, now)} of bake left"
    return {
        PhaseStatus.DONE: "done",
        PhaseStatus.SKIPPED: "done (rest of the bake skipped)",
        PhaseStatus.ROLLED_OUT: "rolled out (full roll out)",
        PhaseStatus.REVERTED: "reverted",
        PhaseStatus.CANCELLED: "cancelled (never went live)",
    }[status]


def phase_line(snap: ReleaseSnapshot, index: int, now: datetime) -> str:
    """One line per phase: mark, number and name, scope, status."""
    status = snap.release.phase_statuses[index]
    phase = snap.release.pipeline.phases[index]
    return (
        f"{STATUS_EMOJI[status]} {index + 1}. {phase_name(snap.release, index)} · "
        f"{scope(phase)} — {phase_detail(snap, index, now)}"
    )


# --- releases --------------------------------------------------------------------------------

def release_ref(snap: ReleaseSnapshot) -> str:
    """`release #42 of `new_checkout``."""
    return f"release #{snap.release_id} of {code(snap.release.flag_key, NAME_LIMIT)}"


def state_line(snap: ReleaseSnapshot, now: datetime) -> str:
    """The release's state as one sentence, with the time that matters."""
    release = snap.release
    current = phase_name(release, release.phase)
    emoji = STATE_EMOJI[release.state]
    if release.state is ReleaseState.AWAITING_APPROVAL:
        return (
            f"{emoji} *Waiting for approval* of phase {current} — "
            f"{approval_progress(snap, release.phase)}{nobody_can_approve(snap)}"
        )
    if release.state is ReleaseState.BAKING:
        held_by = (after_bake(release) or Effect()).held_by
        if release.held_since is not None and held_by is not None:
            return (
                f"{emoji} *Held* in phase {current}: its bake time ran out "
                f"{slack_date(release.held_since)}, and it moves on once its checks pass — "
                f"{mrkdwn_of(held_by, snap.mentions)}"
            )
        if release.bake_ends_at is None:
            return f"{emoji} *Baking* phase {current}"
        ends = release.bake_ends_at
        then = effect_words(release, after_bake(release) or Effect())
        return (
            f"{emoji} *Baking* phase {current} until {slack_date(ends)} "
            f"({left_words(release, now)} left), then {then}"
        )
    if release.state is ReleaseState.PAUSED:
        return (
            f"{emoji} *Paused* in phase {current} with {left_words(release, now)} of bake left — "
            "the live phases stay live"
        )
    ended = f" {slack_date(release.ended_at)}" if release.ended_at is not None else ""
    if release.state is ReleaseState.COMPLETED:
        envs = escape(clip(", ".join(release.pipeline.environments), SCOPE_LIMIT))
        value = (code(compact(snap.new_value)) if snap.kind is FlagKind.GATE
                 else f"version {release.to_version}")
        return f"{emoji} *Completed*{ended} — {value} is now the base value in {envs}"
    return f"{emoji} *Aborted*{ended} — every environment serves its pre-release value again"


def nobody_can_approve(snap: ReleaseSnapshot) -> str:
    """A warning when everyone who may approve the current phase is a user group Slack does
    not know; empty otherwise."""
    release = snap.release
    principals = allowed(release.pipeline, Action.APPROVE, release.phase)
    if not principals or not all(p in snap.unknown_groups for p in principals):
        return ""
    return (
        f"\n:warning: Nobody can approve: Slack knows no user group "
        f"{join_words([safe(p) for p in principals])}. Create it in Slack, or abort and "
        "correct the pipelines file."
    )


def short_state(snap: ReleaseSnapshot, now: datetime) -> str:
    """The state in a few words for one-line listings; groups are named, never mentioned."""
    release = snap.release
    emoji = STATE_EMOJI[release.state]
    current = phase_name(release, release.phase)
    if release.state is ReleaseState.AWAITING_APPROVAL:
        count = approvals(release, release.phase)
        return f"{emoji} waiting for approval of {current} ({count.got} of {count.required})"
    if release.state is ReleaseState.BAKING and release.bake_ends_at is not None:
        ends = release.bake_ends_at
        left = left_words(release, now)
        return f"{emoji} baking {current} until {slack_date(ends)} ({left} left)"
    if release.state is ReleaseState.BAKING and release.held_since is not None:
        return f"{emoji} {current} held by its checks since {slack_date(release.held_since)}"
    if release.state is ReleaseState.PAUSED:
        return f"{emoji} paused in {current} with {left_words(release, now)} left"
    ended = f" {slack_date(release.ended_at)}" if release.ended_at is not None else ""
    return f"{emoji} {release.state.value}{ended}"


def state_plain(snap: ReleaseSnapshot) -> str:
    """The release's state in plain words (for notification text)."""
    release = snap.release
    current = phase_name_plain(release, release.phase)
    if release.state is ReleaseState.AWAITING_APPROVAL:
        count = approvals(release, release.phase)
        return f"waiting for approval of phase {current} ({count.got} of {count.required})"
    if release.state is ReleaseState.BAKING:
        return f"baking phase {current}"
    if release.state is ReleaseState.PAUSED:
        return f"paused in phase {current}"
    return "completed" if release.state is ReleaseState.COMPLETED else "aborted"


# --- values ----------------------------------------------------------------------------------

def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, Mapping) and item:
            out.update(_flatten(item, path))
        else:
            out[path] = item
    return out


def config_diff_lines(old: Any, new: Any) -> list[str]:
    """Added, removed and changed keys (nested keys as dotted paths), in key order."""
    before = _flatten(old) if isinstance(old, Mapping) else {}
    after = _flatten(new) if isinstance(new, Mapping) else {}
    lines = []
    for path in sorted(before.keys() | after.keys()):
        key = code(path, NAME_LIMIT)
        if path not in before:
            lines.append(f"• added {key} = {code(compact(after[path]))}")
        elif path not in after:
            lines.append(f"• removed {key} (was {code(compact(before[path]))})")
        elif before[path] != after[path]:
            was, becomes = code(compact(before[path])), code(compact(after[path]))
            lines.append(f"• changed {key}: {was} → {becomes}")
    return lines


def fit_lines(lines: Sequence[str], budget: int, more: str = "more change") -> list[str]:
    """As many lines as fit in `budget` characters, then `… and N more changes`."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        left = len(lines) - index
        tail = f"… and {plural(left, more)}"
        cost = len(line) + 1
        # Keep room for the tail line unless this is the last line.
        reserve = 0 if left == 1 else len(tail) + 1
        if used + cost + reserve > budget:
            out.append(tail)
            return out
        out.append(line)
        used += cost
    return out


def change_text(snap: ReleaseSnapshot, budget: int = SECTION_LIMIT) -> str:
    """The change a release makes: `false → true` for a gate, a key diff for a config."""
    release = snap.release
    versions = f"version {release.from_version} → {release.to_version}"
    old, new = snap.old_value, snap.new_value
    if snap.kind is FlagKind.CONFIG and isinstance(new, Mapping) and (
        old is None or isinstance(old, Mapping)
    ):
        lines = config_diff_lines(old or {}, new)
        head = f"*Change* ({versions}):"
        if not lines:
            return f"{head} the values are the same"
        body = fit_lines(lines, budget - len(head) - 1)
        return "\n".join([head, *body])
    return f"*Change:* {code(compact(old))} → {code(compact(new))} ({versions})"


def change_plain(snap: ReleaseSnapshot) -> str:
    """The change in a few plain words."""
    if snap.kind is FlagKind.GATE:
        return f"{compact(snap.old_value)} → {compact(snap.new_value)}"
    release = snap.release
    return f"version {release.from_version} → {release.to_version}"


# --- packing ---------------------------------------------------------------------------------

def pack(lines: Iterable[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Join lines into as few texts of at most `limit` characters as possible, in order."""
    chunks: list[str] = []
    current = ""
    for raw in lines:
        line = clip(raw, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


# --- the core's sentences ---------------------------------------------------------------------

class SlackWords(Words):
    """Renders slots as mrkdwn: names bold, keys and values as code, people as mentions."""

    def __init__(self, mentions: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.mentions = mentions or {}

    def text(self, value: Any) -> str:
        """Outside text, escaped."""
        return safe(str(value), 3000)

    def name(self, name: str) -> str:
        """A phase's or pipeline's name, bold."""
        return f"*{safe(name)}*"

    def flag(self, key: str) -> str:
        """A flag key as inline code."""
        return code(key, NAME_LIMIT)

    def person(self, actor: str) -> str:
        """A user id as a mention; anything else as escaped text."""
        return who(actor)

    def principals(self, names: Sequence[str]) -> str:
        """Groups as `<!subteam^…>` where their id is known, users as mentions."""
        return principals(list(names), self.mentions)

    def json(self, value: Any) -> str:
        """A value as inline code."""
        return code(compact(value))


def mrkdwn_of(sentence: Sentence, mentions: Mapping[str, str] | None = None) -> str:
    """A core sentence as Slack mrkdwn."""
    return SlackWords(mentions).render(sentence)
