"""Use cases: every interface (CLI, Slack, scheduler) changes releases through these."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from release_bot.core import guardrails, machine, sweeps
from release_bot.core.errors import (
    ConcurrentUpdate,
    InvalidInput,
    Kind,
    MembershipUnavailable,
    NotFound,
    RuleBroken,
)
from release_bot.core.evaluation import serve
from release_bot.core.guardrails import DueCheck, Measurement
from release_bot.core.models import (
    GUARDRAIL_ACTOR,
    Check,
    Command,
    Event,
    Flag,
    FlagKind,
    NoticeKind,
    Notification,
    OnFail,
    Outcome,
    Pipeline,
    Release,
    ReleaseState,
    Scope,
    StartKey,
    Transition,
    Version,
)
from release_bot.core.policy import Membership, groups_to_ask, principals_for
from release_bot.core.ports import Reads, ReleaseRepository, UnitOfWork
from release_bot.core.quoting import shown
from release_bot.core.rules import (
    OneActiveReleasePerFlag,
    Rule,
    TokenHasScope,
    ValueChanges,
    ValueFitsKind,
    check,
)
from release_bot.core.sentences import Sentence, say
from release_bot.core.sweeps import OnStuck, StuckRelease
from release_bot.core.values import check_value

FLAG_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
CAS_ATTEMPTS = 20
SWEEP_CHUNK = 100
# ids are the schema's INTEGER column: 32-bit on Postgres, which refuses a larger one outright;
# beyond it an id names no release, on every database alike
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class _Timed:
    """A timed step and how to find the releases it is due for: as releases, or only ids."""

    find: Callable[[ReleaseRepository, datetime, int], Sequence[Release]]
    ids: Callable[[ReleaseRepository, datetime, int], Sequence[int]]
    step: Callable[[Release, datetime], Transition | None]


_BAKE_ENDS = _Timed(lambda found, now, n: found.due(now, n),
                    lambda found, now, n: found.due_ids(now, n), machine.timer_end)
_REMINDERS = _Timed(lambda found, now, n: found.reminders_due(now, n),
                    lambda found, now, n: found.reminder_ids(now, n), machine.remind)


class ReleaseService:
    """The release use cases over a unit-of-work factory, the pipelines and group membership;
    the use cases that only read take a read-only transaction from `reads` (default: `uow`)."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        pipelines: Mapping[str, Pipeline],
        membership: Membership,
        reads: Callable[[], Reads] | None = None,
    ) -> None:
        self.uow = uow
        self.reads = uow if reads is None else reads
        self.pipelines = pipelines
        self.membership = membership

    def _pipeline(self, name: str) -> Pipeline:
        pipeline = self.pipelines.get(name)
        if pipeline is None:
            raise NotFound(say("There is no pipeline {name:name} in the pipelines file "
                               "(known: {known}).", name=shown(name), known=self._known()))
        return pipeline

    def _pipeline_of(self, flag: Flag) -> Pipeline:
        """The flag's pipeline; a flag whose pipeline left the file is told how to move."""
        pipeline = self.pipelines.get(flag.pipeline)
        if pipeline is None:
            raise NotFound(say(
                "{key:flag} is on pipeline {name:name}, which is no longer in the pipelines "
                "file — move it to one that is ({known}) with: release-bot flag move {key:flag} "
                "--pipeline NAME --by USER_ID.", key=flag.key, name=flag.pipeline,
                known=self._known()))
        return pipeline

    def _known(self) -> str:
        return ", ".join(sorted(self.pipelines)) or "none"

    def create_flag(
        self, key: str, kind: FlagKind, pipeline: str, value: Any, actor: str, now: datetime
    ) -> Flag:
        """Create a flag at version 1 with its value as the base of every environment."""
        _check_actor(actor)
        check_flag_key(key)
        self._pipeline(pipeline)
        check_value(value)
        check(ValueFitsKind(kind, value))
        with self.uow() as uow:
            if uow.flags.get(key) is not None:
                raise InvalidInput(say("Flag {key:flag} already exists.", key=key),
                                   kind=Kind.CONFLICT)
            flag = Flag(key=key, kind=kind, pipeline=pipeline, default_version=1)
            uow.flags.add(flag)
            uow.flags.add_version(key, Version(1, value, now, actor))
            uow.history.append(_flag_event(key, actor, "create", now, say(
                "created {kind} {key:flag} at version 1 on pipeline {name:name}",
                kind=kind.value, key=key, name=pipeline)))
            uow.commit()
        return flag

    def move_flag(self, key: str, pipeline: str, actor: str, now: datetime) -> Flag:
        """Put a flag on another pipeline of the file while none of its releases is active;
        its next release runs through that pipeline. Works when the old pipeline is gone."""
        _check_actor(actor)
        self._pipeline(pipeline)
        with self.uow() as uow:
            flag = self._flag(uow, key)
            if flag.pipeline == pipeline:
                raise InvalidInput(say("{key:flag} is already on pipeline {name:name}.",
                                       key=key, name=pipeline), kind=Kind.CONFLICT)
            check(OneActiveReleasePerFlag(key, uow.releases.active_for_flag(key)))
            moved = replace(flag, pipeline=pipeline)
            uow.flags.save(moved)
            uow.history.append(_flag_event(key, actor, "move", now, say(
                "moved {key:flag} from pipeline {old:name} to pipeline {new:name}",
                key=key, old=flag.pipeline, new=pipeline)))
            uow.commit()
        return moved

    def start_release(self, key: str, value: Any, actor: str, now: datetime, *,
                      scopes: frozenset[Scope] | None = None) -> Release:
        """Create version N+1 of the flag and trigger a release of it through its pipeline."""
        return self.start_once(key, value, actor, now, None, scopes=scopes)[0]

    def start_once(self, key: str, value: Any, actor: str, now: datetime,
                   idempotency_key: str | None, *,
                   scopes: frozenset[Scope] | None = None) -> tuple[Release, bool]:
        """Start a release, or, for an Idempotency-Key the actor already started one with, give
        that release again; True when this call started it.

        The key is written first in the start's transaction, so the database lets one of
        concurrent twins through; the others find its release when they retry.
        """
        _check_actor(actor)
        check_value(value)
        once = None if idempotency_key is None else StartKey(
            actor, idempotency_key, _canonical_request(key, value))
        for _ in range(CAS_ATTEMPTS):
            try:
                return self._start(key, value, actor, now, scopes, once)
            except ConcurrentUpdate:
                if once is None:
                    raise
        raise ConcurrentUpdate("Starts with this Idempotency-Key kept colliding — retry.")

    def _start(self, key: str, value: Any, actor: str, now: datetime,
               scopes: frozenset[Scope] | None, once: StartKey | None) -> tuple[Release, bool]:
        """One attempt at start_once, in one transaction."""
        with self.uow() as uow:
            flag = self._flag(uow, key)
            _refuse_start(uow, key, actor, now, TokenHasScope(actor, scopes, Scope.START))
            if once is not None:
                earlier = uow.start_keys.find(once.owner, once.key)
                if earlier is not None:
                    return _started_before(uow, once, *earlier), False
                uow.start_keys.claim(once, now)
            pipeline = self._pipeline_of(flag)
            versions = uow.flags.versions(key)
            current = tuple(versions[flag.base_version(e)].value for e in pipeline.environments)
            _refuse_start(uow, key, actor, now,
                          ValueFitsKind(flag.kind, value),
                          ValueChanges(key, current, value),
                          OneActiveReleasePerFlag(key, uow.releases.active_for_flag(key)))
            number = max(versions) + 1
            uow.flags.add_version(key, Version(number, value, now, actor))
            transition = machine.start(flag, pipeline, number, actor, now)
            release = self._record(uow, None, transition, now)
            if once is not None:
                assert release.id is not None
                uow.start_keys.settle(once, release.id)
            uow.commit()
        return release, True

    def act(self, command: Command, now: datetime) -> Release:
        """Carry out a person's action; refusals and denials are kept in the history and raised.

        Group membership is asked between transactions, never inside one: a Slack request must
        not hold a database lock. When the release moved on to a phase with other approvers,
        the new groups are asked and the decision is made again.
        """
        _check_actor(command.actor)
        answers = _Answers()
        for _ in range(CAS_ATTEMPTS):
            with self.uow() as uow:
                release = self._release(uow, command.release_id)
                principals = principals_for(release, command.action)
                missing = answers.missing(groups_to_ask(command.actor, principals))
                if not missing:
                    try:
                        transition = machine.decide(release, command, now, answers)
                    except (RuleBroken, MembershipUnavailable) as error:
                        _log(uow, release, machine.refusal(release, command, error, now), now)
                        uow.commit()
                        raise
                    try:
                        saved = self._record(uow, release, transition, now)
                        uow.commit()
                    except ConcurrentUpdate:
                        continue
                    return saved
            answers.ask(self.membership, command.actor, missing)
        raise ConcurrentUpdate(
            f"Release #{command.release_id} kept changing while we tried — look again and retry."
        )

    def record_measurement(self, due: DueCheck, reading: Measurement, now: datetime) -> bool:
        """Keep one measurement of a check and act on it, in one transaction.

        A verdict that changes is kept in the history (and redraws the status); `failures`
        fails in a row pause or abort the release as the guardrail; a held bake whose checks
        all pass now ends. True when there is something to tell (a new verdict, a move);
        nothing is kept when the check no longer runs (its release or phase ended).
        """
        for _ in range(CAS_ATTEMPTS):
            try:
                return self.record_measurements([(due, reading)], now)
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(
            f"Release #{due.release_id} kept changing while its check was recorded."
        )

    def record_measurements(self, readings: Sequence[tuple[DueCheck, Measurement]],
                            now: datetime) -> bool:
        """record_measurement for checks of distinct releases, all in one transaction (all or
        nothing: a lost race raises ConcurrentUpdate); True when any has something to tell."""
        with self.uow() as uow:
            told = [self._measured(uow, due, reading, now) for due, reading in readings]
            uow.commit()
        return any(told)

    def _measured(self, uow: UnitOfWork, due: DueCheck, reading: Measurement, now: datetime
                  ) -> bool:
        """One measurement kept in the open transaction, and what it makes the release do."""
        release = uow.releases.get(due.release_id)
        if release is None or due.phase not in release.live_phases():
            return False
        watched = next((c for c in release.pipeline.phases[due.phase].checks
                        if c.name == due.name), None)
        if watched is None:
            return False
        state = (release.check_state(due.phase, due.name)
                 or guardrails.first_state(due.phase, watched, due.due_at))
        measured = guardrails.measure(watched, state, reading,
                                      guardrails.next_due(watched, due.due_at, now))
        uow.checks.save(due.release_id, measured.after)
        seen = replace(release, checks=tuple(
            measured.after if (c.phase, c.name) == (due.phase, due.name) else c
            for c in release.checks))
        if measured.changed:
            _log(uow, seen, _verdict_event(seen, watched, measured, now), now)
        transition = None
        if measured.act is not None:
            reason = guardrails.action_reason(watched, measured.after)
            transition = machine.guard(seen, measured.act, reason, now)
        if transition is None and seen.held_since is not None:
            transition = machine.timer_end(seen, now)
        if transition is not None:
            self._record(uow, seen, transition, now)
        elif measured.changed:
            uow.outbox.put(due.release_id, release.pipeline.channel, Notification(
                NoticeKind.STATUS_CHANGED, {"phase": release.phase}), now)
        return transition is not None or measured.changed

    def guardrail(self, release_id: int, act: OnFail, reason: Sentence, now: datetime
                  ) -> Release | None:
        """Pause or abort a release as the guardrail (an alert, a check), with the reason;
        None when there was nothing to do (already paused, or ended)."""
        for _ in range(CAS_ATTEMPTS):
            with self.uow() as uow:
                release = self._release(uow, release_id)
                transition = machine.guard(release, act, reason, now)
                if transition is None:
                    return None
                try:
                    saved = self._record(uow, release, transition, now)
                    uow.commit()
                except ConcurrentUpdate:
                    continue
                return saved
        raise ConcurrentUpdate(f"Release #{release_id} kept changing while the guardrail acted.")

    def advance_due(self, now: datetime, limit: int | None = None,
                    on_stuck: OnStuck | None = None) -> list[Release]:
        """End the bake timers due at now, earliest first (at most `limit` of them).

        A release that fails to move is recorded, told to `on_stuck` and left out until its
        retry time; the others move all the same.
        """
        return self._sweep(now, limit, _BAKE_ENDS, on_stuck)

    def remind_due(self, now: datetime, limit: int | None = None,
                   on_stuck: OnStuck | None = None) -> list[Release]:
        """Send the approval reminders and escalations due at now (at most `limit`), as
        advance_due does."""
        return self._sweep(now, limit, _REMINDERS, on_stuck)

    def next_due(self) -> datetime | None:
        """When the earliest bake timer or reminder is due (None: nothing is timed)."""
        with self.uow() as uow:
            return uow.releases.next_due()

    def stuck(self) -> Sequence[StuckRelease]:
        """The releases the sweep keeps failing on, next retry first."""
        with self.uow() as uow:
            return uow.releases.stuck()

    def _sweep(self, now: datetime, limit: int | None, timed: _Timed,
               on_stuck: OnStuck | None) -> list[Release]:
        """Apply a timed step to what is due, SWEEP_CHUNK releases a transaction."""
        moved: list[Release] = []
        while limit is None or len(moved) < limit:
            size = SWEEP_CHUNK if limit is None else min(SWEEP_CHUNK, limit - len(moved))
            chunk, found, failed = self._sweep_chunk(now, size, timed, on_stuck)
            moved += chunk
            if found < size or not (chunk or failed):
                break
        return moved

    def _sweep_chunk(self, now: datetime, size: int, timed: _Timed, on_stuck: OnStuck | None
                     ) -> tuple[list[Release], int, int]:
        """One transaction for the chunk; if any of it fails, one each instead.

        Returns what moved, how many were due and how many failed. A lost race is left to
        whoever won it; any other failure is recorded against its release alone.
        """
        try:
            with self.uow() as uow:
                due = list(timed.find(uow.releases, now, size))
                moved = [
                    self._record(uow, release, transition, now)
                    for release in due
                    if (transition := timed.step(release, now)) is not None
                ]
                uow.commit()
                return moved, len(due), 0
        except Exception:  # noqa: BLE001 — found again below, one release at a time
            pass
        with self.uow() as uow:
            ids = list(timed.ids(uow.releases, now, size))
        moved, failed = [], 0
        for release_id in ids:
            try:
                saved = self._sweep_one(release_id, now, timed)
            except ConcurrentUpdate:
                continue
            except Exception as error:  # noqa: BLE001 — one release's fault is its own
                self._note_failure(release_id, error, now, on_stuck)
                failed += 1
                continue
            if saved is not None:
                moved.append(saved)
        return moved, len(ids), failed

    def _sweep_one(self, release_id: int, now: datetime, timed: _Timed) -> Release | None:
        """Apply the timed step to one release in a transaction of its own (None: not due)."""
        with self.uow() as uow:
            release = uow.releases.get(release_id)
            transition = timed.step(release, now) if release else None
            if release is None or transition is None:
                return None
            saved = self._record(uow, release, transition, now)
            uow.commit()
            return saved

    def _note_failure(self, release_id: int, error: Exception, now: datetime,
                      on_stuck: OnStuck | None) -> None:
        """Count the failure against the release, set its next try and tell `on_stuck`."""
        with self.uow() as uow:
            failure = sweeps.failed(release_id, uow.releases.sweep_failure(release_id), error,
                                    now)
            uow.releases.record_sweep_failure(failure)
            uow.commit()
        if on_stuck is not None:
            on_stuck(failure, error)

    def release(self, release_id: int) -> Release:
        """One release."""
        with self.reads() as reads:
            return self._release(reads, release_id)

    def release_with_versions(self, release_id: int) -> tuple[Release, dict[int, Version]]:
        """One release and its flag's versions, read in one transaction."""
        with self.reads() as reads:
            release = self._release(reads, release_id)
            return release, reads.flags.versions(release.flag_key)

    def releases(
        self, *, active_only: bool = False, flag_key: str | None = None
    ) -> Sequence[Release]:
        """Releases, newest first."""
        with self.reads() as reads:
            return reads.releases.list(active_only=active_only, flag_key=flag_key)

    def flags(self) -> Sequence[Flag]:
        """Every flag."""
        with self.reads() as reads:
            return reads.flags.list()

    def flag(self, key: str) -> tuple[Flag, dict[int, Version], Release | None]:
        """A flag, its versions and its active release."""
        with self.reads() as reads:
            flag = self._flag(reads, key)
            return flag, reads.flags.versions(key), reads.releases.active_for_flag(key)

    def history(self, key: str, *, offset: int = 0, limit: int | None = None
                ) -> Sequence[Event]:
        """A flag's history, oldest first (from the offset-th event, at most limit of them)."""
        with self.reads() as reads:
            self._flag(reads, key)
            return reads.history.for_flag(key, offset=offset, limit=limit)

    def evaluate(
        self, key: str, environment: str, unit_id: str, attributes: Mapping[str, str]
    ) -> Any:
        """The value the flag serves in an environment to a unit with attributes."""
        flag, versions, release = self.flag(key)
        values = {number: version.value for number, version in versions.items()}
        return serve(flag, values, release, environment, unit_id, attributes)

    @staticmethod
    def _flag(uow: Reads, key: str) -> Flag:
        flag = uow.flags.get(key)
        if flag is None:
            raise NotFound(say("There is no flag {key:flag}.", key=key))
        return flag

    @staticmethod
    def _release(uow: Reads, release_id: int) -> Release:
        release = uow.releases.get(release_id) if 0 < release_id <= MAX_ID else None
        if release is None:
            raise no_release(release_id)
        return release

    @staticmethod
    def _record(
        uow: UnitOfWork, before: Release | None, transition: Transition, now: datetime
    ) -> Release:
        """Persist a transition: the release (CAS), the flag on completion, history, outbox."""
        after = transition.release
        saved = uow.releases.add(after) if before is None else uow.releases.save(after)
        assert saved.id is not None
        if saved.state is ReleaseState.COMPLETED:
            flag = ReleaseService._flag(uow, saved.flag_key)
            uow.flags.save(flag.promoted(saved.to_version, saved.pipeline.environments))
        for event in transition.events:
            _log(uow, saved, _with_release(event, saved.id), now)
        for notification in transition.notifications:
            uow.outbox.put(saved.id, saved.pipeline.channel, notification, now)
        ReleaseService._schedule_checks(uow, before, saved, now)
        return saved

    @staticmethod
    def _schedule_checks(uow: UnitOfWork, before: Release | None, after: Release,
                         now: datetime) -> None:
        """Start the checks of phases that went live; stop every check once the release ends."""
        assert after.id is not None
        if before is not None and before.active and not after.active:
            uow.checks.stop(after.id)
        live_before = set(before.live_phases()) if before is not None else set()
        for index in sorted(set(after.live_phases()) - live_before):
            for watched in after.pipeline.phases[index].checks:
                uow.checks.start(after.id, guardrails.first_state(index, watched, now),
                                 watched.query)


def check_flag_key(key: str) -> None:
    """Raise InvalidInput unless key can name a flag: letters, digits, '_', '.', '-' (≤ 100)."""
    if not FLAG_KEY.fullmatch(key):
        raise InvalidInput(say("'{key}' is not a valid flag key: use letters, digits, '_', "
                               "'.' or '-'.", key=shown(key)))


def no_release(release_id: int | str) -> NotFound:
    """The refusal for an id that names no release (an id too long to read comes as text)."""
    return NotFound(say("There is no release #{id}.", id=release_id))


def _refuse_start(uow: UnitOfWork, key: str, actor: str, now: datetime, *rules: Rule) -> None:
    """Check the rules of a start; a broken one is kept in the history, and nothing else of
    the attempt (an Idempotency-Key included: a refused start may be sent again)."""
    try:
        check(*rules)
    except RuleBroken as error:
        uow.rollback()
        uow.history.append(machine.refused_start(key, actor, error, now))
        uow.commit()
        raise


def _canonical_request(key: str, value: Any) -> str:
    """What a start asks for, as one canonical text: its flag and value."""
    return json.dumps({"flag": key, "value": value}, sort_keys=True, separators=(",", ":"))


def _started_before(uow: UnitOfWork, once: StartKey, kept: StartKey, release_id: int
                    ) -> Release:
    """The release an Idempotency-Key started, if it was sent with the same request."""
    if kept.request != once.request:
        raise InvalidInput(say("Idempotency-Key '{key}' was sent before with another request: "
                               "use a new key for a new start.", key=shown(once.key)))
    return ReleaseService._release(uow, release_id)


def _check_actor(actor: str) -> None:
    """Someone acts: an empty or blank name is nobody, and nothing is done in nobody's name."""
    if not actor.strip():
        raise InvalidInput("Say who acts: a Slack user id such as U0123ABCD, not an empty name.")


def _flag_event(key: str, actor: str, action: str, now: datetime, said: Sentence) -> Event:
    """A history row for something done to a flag itself (no release)."""
    return Event(flag_key=key, at=now, actor=actor, action=action, outcome=Outcome.OK,
                 message=said.plain)


def _log(uow: UnitOfWork, release: Release, event: Event, now: datetime) -> None:
    """Keep an event of a release in the history and queue it for each of its webhooks."""
    uow.history.append(event)
    assert release.id is not None
    for webhook in release.pipeline.webhooks:
        uow.outbox.put_event(release.id, webhook, event, now)


def _verdict_event(release: Release, watched: Check, measured: guardrails.Measured,
                   now: datetime) -> Event:
    """The history row of a measurement that changed a check's verdict."""
    return Event(flag_key=release.flag_key, at=now, actor=GUARDRAIL_ACTOR, action="check",
                 outcome=Outcome.OK,
                 message=guardrails.verdict_sentence(watched, measured.after).plain,
                 release_id=release.id, phase=measured.after.phase,
                 from_state=release.describe_state(), to_state=release.describe_state())


def _with_release(event: Event, release_id: int) -> Event:
    return replace(event, release_id=release_id)


class _Answers:
    """Membership answers asked before a transaction, served to the decision inside it."""

    def __init__(self) -> None:
        self.known: dict[str, bool | MembershipUnavailable] = {}

    def missing(self, groups: Sequence[str]) -> tuple[str, ...]:
        """The groups still to ask, in order, up to the first one that settles the question."""
        for index, group in enumerate(groups):
            answer = self.known.get(group)
            if answer is None:
                return tuple(groups[index:])
            if answer is True or isinstance(answer, MembershipUnavailable):
                return ()
        return ()

    def ask(self, membership: Membership, user_id: str, groups: Sequence[str]) -> None:
        """Ask membership in order until a group includes the user or cannot be asked."""
        for group in groups:
            try:
                answer: bool | MembershipUnavailable = membership.is_member(user_id, group)
            except MembershipUnavailable as error:
                answer = error
            self.known[group] = answer
            if answer is not False:
                return

    def is_member(self, user_id: str, group: str) -> bool:
        """The answer asked before; a group that could not be asked denies."""
        answer = self.known[group]
        if isinstance(answer, MembershipUnavailable):
            raise answer
        return answer
