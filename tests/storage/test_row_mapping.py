"""Core models survive the trip to table rows (and their JSON documents) and back unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_bot.core.models import (
    Action,
    Approval,
    ApprovalGate,
    Event,
    NoticeKind,
    Notification,
    Outcome,
    Phase,
    PhaseStatus,
    Pipeline,
    Release,
    ReleaseState,
    Version,
    Webhook,
)
from release_bot.storage.mapping import (
    approvals_from_json,
    approvals_to_json,
    event_from_json,
    event_from_row,
    event_values,
    flag_from_row,
    flag_values,
    from_seconds,
    outbox_message,
    outbox_values,
    pipeline_from_json,
    pipeline_to_json,
    release_from_row,
    release_values,
    to_seconds,
    version_from_row,
    version_values,
    webhook_values,
)
from release_bot.storage.outbox import OutboxStatus
from release_bot.storage.tables import EventRow, FlagRow, FlagVersionRow, OutboxRow, ReleaseRow
from tests.support.samples import NOW, TOKYO, paused_release, sample_flag, standard_pipeline

names = st.text(min_size=1, max_size=12)
principals = st.lists(
    st.sampled_from(["@approvers", "S0GROUP", "U0ALICE"]), min_size=1, max_size=3, unique=True
).map(tuple)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650))
aware = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, TOKYO, timezone(timedelta(hours=-3, minutes=-30))]),
)
gates = st.none() | st.builds(ApprovalGate, groups=st.tuples(names), required=st.integers(1, 5))
phases = st.builds(
    Phase,
    name=names,
    environments=st.lists(names, min_size=1, max_size=3).map(tuple),
    percentage=st.none() | st.floats(0, 100),
    match=st.dictionaries(names, st.lists(names, max_size=3).map(tuple), max_size=2),
    approval=gates,
    bake=durations,
)
pipelines = st.builds(
    Pipeline,
    name=names,
    phases=st.lists(phases, min_size=1, max_size=4).map(tuple),
    channel=st.none() | names,
    allow_self_approval=st.booleans(),
    permissions=st.dictionaries(st.sampled_from(list(Action)), principals),
    remind_every=durations,
    escalate_after=durations,
    escalate_to=st.lists(names, max_size=2).map(tuple),
    webhooks=st.lists(st.builds(Webhook, url=names, secret_env=names), max_size=2).map(tuple),
)


def through_json(document: Any) -> Any:
    """What a JSON column hands back for a document."""
    return json.loads(json.dumps(document))


@given(pipelines)
def test_a_pipeline_snapshot_round_trips_through_json(pipeline: Pipeline) -> None:
    assert pipeline_from_json(through_json(pipeline_to_json(pipeline))) == pipeline


def test_the_snapshot_keys_permissions_by_action_name_and_durations_in_seconds() -> None:
    document = pipeline_to_json(standard_pipeline())
    assert document["permissions"]["full_rollout"] == ["@release-managers"]
    assert document["phases"][1]["bake_seconds"] == 7200
    assert document["phases"][1]["approval"] == {"groups": ["@approvers"], "required": 1}
    assert document["phases"][0]["approval"] is None


@given(durations)
def test_a_duration_round_trips_through_seconds(duration: timedelta) -> None:
    assert from_seconds(to_seconds(duration)) == duration


@given(st.lists(st.builds(Approval, phase=st.integers(0, 5), user=names, at=aware), max_size=4))
def test_approvals_round_trip_as_the_same_instants_in_utc(approvals: list[Approval]) -> None:
    back = approvals_from_json(through_json(approvals_to_json(approvals)))
    assert back == tuple(approvals)
    assert all(a.at.utcoffset() == timedelta(0) for a in back)


def test_a_naive_approval_time_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        approvals_to_json([Approval(0, "U0ALICE", datetime(2030, 1, 1, 9, 0))])


@given(
    pipelines.flatmap(lambda p: st.tuples(
        st.just(p),
        st.integers(0, len(p.phases) - 1),
        st.lists(st.sampled_from(list(PhaseStatus)), min_size=len(p.phases),
                 max_size=len(p.phases)),
    )),
    st.sampled_from(list(ReleaseState)),
    st.none() | aware,
    st.none() | durations,
)
def test_a_release_round_trips_through_its_row(
    shape: tuple[Pipeline, int, list[PhaseStatus]], state: ReleaseState,
    moment: datetime | None, remaining: timedelta | None,
) -> None:
    pipeline, phase, statuses = shape
    release = Release(
        id=None, flag_key="new_checkout", pipeline=pipeline, from_version=1, to_version=2,
        triggered_by="U0TRIGGER", created_at=NOW, state=state, phase=phase,
        phase_statuses=tuple(statuses), bake_ends_at=moment, remaining=remaining,
        approvals=(Approval(phase, "U0ALICE", NOW),), ended_at=moment,
    )
    values = {key: through_json(value) if isinstance(value, (dict, list)) else value
              for key, value in release_values(release).items()}
    row = ReleaseRow(id=9, revision=4, **values)
    assert release_from_row(row) == replace(release, id=9, revision=4)


def test_only_an_active_release_claims_its_flag() -> None:
    active = paused_release()
    done = replace(active, state=ReleaseState.COMPLETED, ended_at=NOW)
    assert release_values(active)["active_flag_key"] == "new_checkout"
    assert release_values(done)["active_flag_key"] is None


def test_a_flag_and_a_version_round_trip_through_their_rows() -> None:
    flag = sample_flag()
    assert flag_from_row(FlagRow(**flag_values(flag))) == flag
    version = Version(3, {"limit": 5, "tags": ["a"]}, NOW, "U0ALICE")
    assert version_from_row(FlagVersionRow(**version_values("new_checkout", version))) == version


def test_an_event_round_trips_through_its_row() -> None:
    event = Event(
        flag_key="new_checkout", at=NOW, actor="U0ALICE", action="abort", outcome=Outcome.DENIED,
        message="You can't Abort release #3.", release_id=3, phase=1, from_state="baking(1)",
        to_state="baking(1)", reason="errors up", rule="ActorIsPermitted",
    )
    assert event_from_row(EventRow(**event_values(event))) == event


def test_a_snapshot_taken_before_webhooks_existed_has_none() -> None:
    document = pipeline_to_json(standard_pipeline())
    del document["webhooks"]
    assert pipeline_from_json(document) == standard_pipeline()


def test_an_event_for_a_webhook_round_trips_through_an_outbox_row() -> None:
    event = Event(
        flag_key="new_checkout", at=NOW.astimezone(TOKYO), actor="U0ALICE", action="pause",
        outcome=Outcome.OK, message="paused", release_id=3, phase=0, from_state="baking(0)",
        to_state="paused(0)",
    )
    hook = Webhook("https://ci.example.com/hooks", "HOOK_SECRET")
    row = OutboxRow(id=1, **webhook_values(3, hook, event, "msg_1", NOW))
    message = outbox_message(row)
    assert (message.target, message.channel, message.kind) == (hook.url, None, NoticeKind.EVENT)
    assert message.payload["webhook_id"] == "msg_1"
    assert message.payload["secret_env"] == "HOOK_SECRET"
    assert event_from_json(through_json(message.payload["event"])) == event


def test_a_notification_round_trips_through_an_outbox_row() -> None:
    notification = Notification(NoticeKind.APPROVAL_NEEDED, {"phase": 1, "groups": ["@a"]})
    row = OutboxRow(id=1, **outbox_values(7, "C0RELEASES", notification, NOW))
    message = outbox_message(row)
    assert message.notification == notification
    assert (message.release_id, message.channel, message.status, message.attempts) == (
        7, "C0RELEASES", OutboxStatus.PENDING, 0
    )
