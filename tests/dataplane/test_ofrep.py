"""OFREP answers from the snapshot: bodies, reasons, metadata, errors and bulk ETags."""

from __future__ import annotations

import json

import pytest

from release_bot.bot.dataplane.ofrep import Ofrep
from release_bot.bot.dataplane.snapshot import Snapshot
from release_bot.core.evaluation import BUCKETS, bucket
from release_bot.core.models import Action, Command, FlagKind
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.samples import APPROVER_IDS, MANAGER, NOW, TRIGGERER

KEY = "new_checkout"


@pytest.fixture
def ofrep(database: Database, service: ReleaseService) -> tuple[Ofrep, Snapshot]:
    """OFREP over a snapshot refreshed by hand, with KEY released into staging."""
    service.create_flag(KEY, FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    service.create_flag("limits", FlagKind.CONFIG, "standard", {"max": 5}, TRIGGERER, NOW)
    snapshot = Snapshot(database, ("staging", "production"))
    snapshot.refresh()
    return Ofrep(snapshot), snapshot


def body(context: dict[str, object]) -> bytes:
    return json.dumps({"context": context}).encode()


@pytest.mark.parametrize("request_body", [b"", b"{}", b'{"context": null}', b'{"context": {}}'])
def test_a_flag_without_a_release_is_static(
    ofrep: tuple[Ofrep, Snapshot], request_body: bytes
) -> None:
    answer = ofrep[0].evaluate("production", "limits", request_body)
    assert answer.status == 200
    assert json.loads(answer.body) == {"key": "limits", "value": {"max": 5}, "reason": "STATIC",
                                       "variant": "v1", "metadata": {"version": 1}}


def test_a_live_phase_serves_its_environment_with_the_release_in_metadata(
    ofrep: tuple[Ofrep, Snapshot], service: ReleaseService
) -> None:
    release = service.start_release(KEY, True, TRIGGERER, NOW)
    ofrep[1].refresh()
    staging = json.loads(ofrep[0].evaluate("staging", KEY, body({"targetingKey": "u1"})).body)
    assert staging == {"key": KEY, "value": True, "reason": "STATIC", "variant": "v2",
                       "metadata": {"version": 2, "releaseId": release.id, "phase": "Staging"}}
    production = json.loads(ofrep[0].evaluate("production", KEY, b"{}").body)
    assert (production["value"], production["variant"]) == (False, "v1")


@pytest.mark.parametrize(("request_body", "code"), [
    (b"not json", "PARSE_ERROR"),
    (b"[1]", "PARSE_ERROR"),
    (b'{"context": 3}', "PARSE_ERROR"),
    (b'{"context": []}', "PARSE_ERROR"),
    (b"null", "PARSE_ERROR"),
    (b'{"context": {"targetingKey": 7}}', "INVALID_CONTEXT"),
    (b"{" * 100_000, "PARSE_ERROR"),
])
def test_a_body_that_is_no_ofrep_request_is_a_400(
    ofrep: tuple[Ofrep, Snapshot], request_body: bytes, code: str
) -> None:
    answer = ofrep[0].evaluate("production", KEY, request_body)
    assert answer.status == 400
    assert json.loads(answer.body)["errorCode"] == code
    assert json.loads(answer.body)["errorDetails"]


def test_unknown_flags_and_environments_are_refused_with_details(
    ofrep: tuple[Ofrep, Snapshot]
) -> None:
    missing = ofrep[0].evaluate("production", "nope", b"")
    assert (missing.status, json.loads(missing.body)["errorCode"]) == (404, "FLAG_NOT_FOUND")
    unknown = ofrep[0].evaluate("qa", KEY, b"")
    assert unknown.status == 404
    assert json.loads(unknown.body)["errorDetails"] == (
        "There is no environment 'qa': the pipelines file names production, staging.")
    bulk = ofrep[0].evaluate_all("qa", b"", None)
    assert (bulk.status, json.loads(bulk.body)["errorCode"]) == (400, "GENERAL")


def test_bulk_answers_every_flag_and_304s_an_unchanged_etag(
    ofrep: tuple[Ofrep, Snapshot], service: ReleaseService
) -> None:
    first = ofrep[0].evaluate_all("staging", body({"targetingKey": "u1"}), None)
    assert first.status == 200 and first.etag
    assert [f["key"] for f in json.loads(first.body)["flags"]] == ["limits", KEY]
    again = ofrep[0].evaluate_all("staging", body({"targetingKey": "u1"}), f"W/{first.etag}")
    assert (again.status, again.body) == (304, b"")
    other_unit = ofrep[0].evaluate_all("staging", body({"targetingKey": "u2"}), first.etag)
    assert other_unit.status == 200, "another context is another answer"

    service.start_release(KEY, True, TRIGGERER, NOW)
    ofrep[1].refresh()
    changed = ofrep[0].evaluate_all("staging", body({"targetingKey": "u1"}), first.etag)
    assert changed.status == 200 and changed.etag != first.etag
    assert json.loads(changed.body)["flags"][1]["value"] is True


def test_a_live_percentage_needs_a_targeting_key(
    ofrep: tuple[Ofrep, Snapshot], service: ReleaseService
) -> None:
    units = [f"user-{n}" for n in range(2000)]
    inside = next(u for u in units if bucket(KEY, u) < BUCKETS // 10)
    outside = next(u for u in units if bucket(KEY, u) >= BUCKETS // 10)
    release = service.start_release(KEY, True, TRIGGERER, NOW)
    for action, actor in ((Action.SKIP, MANAGER), (Action.APPROVE, APPROVER_IDS[0])):
        release = service.act(Command(release.id or 0, action, actor, phase=release.phase), NOW)
    assert release.current_phase.percentage == 10
    ofrep[1].refresh()

    missing = ofrep[0].evaluate("production", KEY, b"")
    assert (missing.status, json.loads(missing.body)["errorCode"]) == (
        400, "TARGETING_KEY_MISSING")
    inside_answer = json.loads(ofrep[0].evaluate("production", KEY, body({"targetingKey": inside})
                                                 ).body)
    assert (inside_answer["value"], inside_answer["reason"]) == (True, "SPLIT")
    assert inside_answer["metadata"]["phase"] == "Production canary"
    outside_answer = json.loads(ofrep[0].evaluate("production", KEY,
                                                  body({"targetingKey": outside})).body)
    assert (outside_answer["value"], outside_answer["reason"]) == (False, "SPLIT")
    bulk = json.loads(ofrep[0].evaluate_all("production", b"", None).body)["flags"]
    assert bulk[1] == {"key": KEY, "errorCode": "TARGETING_KEY_MISSING",
                       "errorDetails": bulk[1]["errorDetails"]}
    assert bulk[0]["value"] == {"max": 5}, "the other flags still answer"
