"""What the API sends back is what the CLI prints: a release and a history event read back from
their JSON print exactly as the originals do, in every state a release goes through."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from release_bot.bot.cli.output import event_data, release_data, release_row, release_text
from release_bot.bot.cli.remote import _refusal, event_from_data, release_from_data
from release_bot.core.errors import Kind, RuleBroken
from release_bot.core.models import Event, Outcome, Release, Version
from tests.support.samples import NOW, TRIGGERER, baking_release, paused_release


def through_json(data: object) -> object:
    """What travels over HTTP."""
    return json.loads(json.dumps(data))


VERSIONS = {n: Version(n, {"limit": n * 4}, NOW, TRIGGERER) for n in (1, 2)}


def shown(release: Release, at: datetime) -> tuple[object, str, str]:
    """Everything the CLI prints of a release."""
    return (release_data(release, VERSIONS), release_text(release, VERSIONS, at),
            release_row(release))


def states() -> list[Release]:
    """A release baking, paused (odd time zones and scopes), waiting, completed and aborted."""
    baking = replace(baking_release("checkout", NOW + timedelta(minutes=17)), id=7)
    paused = replace(paused_release("checkout"), id=8)
    return [
        baking,
        paused,
        replace(paused, state=baking.state.AWAITING_APPROVAL, remaining=None),
        replace(baking, state=baking.state.COMPLETED, ended_at=NOW + timedelta(hours=5)),
        replace(paused, state=baking.state.ABORTED, ended_at=NOW + timedelta(hours=1)),
    ]


@pytest.mark.parametrize("release", states(), ids=lambda r: r.state.value)
def test_a_release_read_back_from_its_json_prints_the_same(release: Release) -> None:
    at = NOW + timedelta(minutes=3)
    original = shown(release, at)
    again, again_versions = release_from_data(through_json(release_data(release, VERSIONS)))
    assert {n: v.value for n, v in again_versions.items()} == {1: {"limit": 4}, 2: {"limit": 8}}
    assert shown(again, at) == original


def test_an_event_read_back_from_its_json_is_the_same() -> None:
    event = Event(flag_key="checkout", at=datetime(2030, 1, 6, 9, 0, 1, 5, tzinfo=UTC),
                  actor="token:ci", action="pause", outcome=Outcome.DENIED, message="No.",
                  release_id=3, phase=1, from_state="baking(1)", to_state="baking(1)",
                  reason="why", rule="ActorIsPermitted")
    assert event_from_data("checkout", through_json(event_data(event))) == event


def test_a_problem_document_becomes_the_refusal_of_its_kind() -> None:
    body = {"type": "urn:release-bot:problem:out_of_date", "title": "Conflict", "status": 409,
            "detail": "Release #3 has moved on.", "rule": "PhaseIsCurrent"}
    error = _refusal(409, json.dumps(body).encode())
    assert isinstance(error, RuleBroken)
    assert (error.message, error.kind, error.code) == (
        "Release #3 has moved on.", Kind.OUT_OF_DATE, "PhaseIsCurrent")
    assert _refusal(502, b"<html>bad gateway</html>").message == (
        "release-bot answered HTTP 502 without saying why.")
