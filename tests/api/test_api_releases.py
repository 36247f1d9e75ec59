"""Starting and steering releases through the API, against a running serve and a fake Slack."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from release_bot.core.models import Scope
from tests.support.api_world import Answer, ApiWorld
from tests.support.harness import RunningBot

FLAG = {"key": "new_checkout", "kind": "gate", "pipeline": "standard", "value": False}
START = "/api/v1/flags/new_checkout/releases"


def _started(world: ApiWorld, secret: str) -> dict[str, Any]:
    assert world.call("POST", "/api/v1/flags", FLAG, secret=secret).status == 201
    answer = world.call("POST", START, {"value": True}, secret=secret)
    assert answer.status == 201, answer.body
    release: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"/api/v1/releases/{release['id']}"
    return release


def _act(world: ApiWorld, secret: str, release_id: int, **body: Any) -> Answer:
    return world.call("POST", f"/api/v1/releases/{release_id}/actions", body, secret=secret)


def test_a_release_is_started_shown_listed_and_steered(world: ApiWorld) -> None:
    secret = world.token("deploy")
    release = _started(world, secret)
    assert (release["state"], release["phase"], release["triggered_by"]) == (
        "baking", 0, "token:deploy")
    assert release["bake_ends_at"] and release["checks"] == []
    path = f"/api/v1/releases/{release['id']}"
    assert world.call("GET", path, secret=secret).json() == release
    active = world.call("GET", "/api/v1/releases?active=true&flag=new_checkout", secret=secret)
    assert active.json() == {"releases": [{"id": release["id"], "flag": "new_checkout",
                                           "state": "baking", "phase": 0,
                                           "phase_name": "Staging"}]}
    paused = _act(world, secret, release["id"], action="pause", phase=0)
    assert paused.status == 200 and paused.json()["state"] == "paused"
    assert paused.json()["remaining"] > 3500
    skipped = _act(world, secret, release["id"], action="skip", phase=0)
    assert skipped.json()["state"] == "awaiting_approval"
    aborted = _act(world, secret, release["id"], action="abort", phase=1, reason="error rate")
    assert aborted.json()["state"] == "aborted"
    assert world.call("GET", "/api/v1/releases?active=true", secret=secret).json() == {
        "releases": []}
    shown = world.call("GET", "/api/v1/flags/new_checkout", secret=secret).json()
    assert shown["value"] is False and shown["active_release"] is None


def test_an_action_for_a_phase_the_release_left_is_out_of_date(world: ApiWorld) -> None:
    secret = world.token("deploy")
    release = _started(world, secret)
    _act(world, secret, release["id"], action="skip", phase=0)
    late = _act(world, secret, release["id"], action="pause", phase=0)
    assert late.status == 409
    problem = late.json()
    assert problem["detail"] == ("This was out of date: it was for phase Staging, but release "
                                 f"#{release['id']} is now at phase Production canary "
                                 "(awaiting approval).")
    assert problem["type"] == "urn:release-bot:problem:out_of_date"
    assert (problem["release"]["state"], problem["release"]["phase"]) == ("awaiting_approval", 1)
    state = _act(world, secret, release["id"], action="unpause", phase=1)
    assert state.status == 409 and state.json()["release"]["phase"] == 1
    assert state.json()["detail"].startswith("Phase Production canary is waiting for approval")
    assert _act(world, secret, release["id"], action="abort", phase=1).status == 422
    assert _act(world, secret, release["id"], action="pause").json()["detail"] == (
        "The body needs the field phase.")
    assert _act(world, secret, 4242, action="pause", phase=0).status == 404


def test_denials_are_kept_in_the_history_like_denied_clicks(world: ApiWorld) -> None:
    secret = world.token("deploy")
    reader = world.token("reader", Scope.READ)
    release = _started(world, secret)
    unscoped = _act(world, reader, release["id"], action="pause", phase=0)
    assert unscoped.status == 403
    _act(world, secret, release["id"], action="skip", phase=0)
    approving = _act(world, secret, release["id"], action="approve", phase=1)
    assert approving.status == 403
    assert approving.json()["detail"] == ("token:deploy is an API token, and approvals are for "
                                          "people: ask an approver to approve in Slack.")
    unlisted = _act(world, secret, release["id"], action="full_rollout", phase=1)
    assert unlisted.status == 403  # full_rollout is for @managers only
    refused_start = world.call("POST", START, {"value": True}, secret=reader)
    assert refused_start.status == 403
    events = world.call("GET", "/api/v1/flags/new_checkout/history", secret=secret).json()
    denied = [(e["actor"], e["action"], e["rule"]) for e in events["events"]
              if e["outcome"] == "denied"]
    assert denied == [("token:reader", "pause", "TokenHasScope"),
                      ("token:deploy", "approve", "TokensNeverApprove"),
                      ("token:deploy", "full_rollout", "ActorIsPermitted"),
                      ("token:reader", "trigger", "TokenHasScope")]


def test_one_idempotency_key_starts_one_release(world: ApiWorld) -> None:
    secret = world.token("deploy")
    assert world.call("POST", "/api/v1/flags", FLAG, secret=secret).status == 201
    key = {"Idempotency-Key": "deploy-2026-12-03-1"}

    def start(_: int) -> Answer:
        return world.call("POST", START, {"value": True}, secret=secret, headers=key)

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(start, range(10)))
    assert sorted(a.status for a in answers) == [200] * 9 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    again = start(0)
    assert (again.status, again.json()["id"]) == (200, answers[0].json()["id"])
    other = world.call("POST", START, {"value": False}, secret=secret, headers=key)
    assert other.status == 422
    assert other.json()["detail"] == ("Idempotency-Key 'deploy-2026-12-03-1' was sent before "
                                      "with another request: use a new key for a new start.")
    releases = world.call("GET", "/api/v1/releases", secret=secret).json()["releases"]
    assert len(releases) == 1
    assert world.call("POST", START, {"value": True}, secret=secret,
                      headers={"Idempotency-Key": "two words"}).status == 422


def test_history_comes_in_pages(world: ApiWorld) -> None:
    secret = world.token("deploy")
    release = _started(world, secret)
    for action in ("pause", "unpause", "pause", "unpause"):
        _act(world, secret, release["id"], action=action, phase=0)
    path = "/api/v1/flags/new_checkout/history?limit=4"
    first = world.call("GET", path, secret=secret).json()
    assert [e["action"] for e in first["events"]] == ["create", "trigger", "pause", "unpause"]
    assert first["next"] == "/api/v1/flags/new_checkout/history?offset=4&limit=4"
    second = world.call("GET", first["next"], secret=secret).json()
    assert [e["action"] for e in second["events"]] == ["pause", "unpause"]
    assert second["next"] is None


def test_api_actions_show_in_slack_naming_the_token(world: ApiWorld) -> None:
    secret = world.token("deploy")
    release = _started(world, secret)
    assert isinstance(world.bot, RunningBot)
    fake = world.bot.fake
    [posted] = fake.wait_for("chat.postMessage")
    assert posted.params["channel"] == "C0RELEASE"
    assert "started by token:deploy" in str(posted.params["blocks"])
    _act(world, secret, release["id"], action="pause", phase=0)
    [update] = fake.wait_for("chat.update")
    assert "paused in phase Staging" in update.params["text"]
    reply = fake.wait_for("chat.postMessage", 2)[-1].params
    assert reply["thread_ts"] == update.params["ts"]
    assert reply["text"].startswith(":double_vertical_bar: token:deploy paused the bake timer "
                                    "of phase *Staging*")

