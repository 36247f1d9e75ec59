"""The API's flags, tokens and errors, through HTTP against a running serve."""

from __future__ import annotations

from release_bot.bot.runtime.settings import Settings
from release_bot.core.models import Scope
from release_bot.storage import Database
from tests.support.api_world import API_PIPELINES, ApiWorld
from tests.support.harness import RunningServe

NEW_FLAG = {"key": "new_checkout", "kind": "gate", "pipeline": "standard", "value": False}


def test_without_a_valid_token_nothing_is_answered(world: ApiWorld) -> None:
    world.token("deploy")
    for secret in (None, "rbt_not-a-token", ""):
        answer = world.call("GET", "/api/v1/flags", secret=secret)
        assert answer.status == 401
        assert answer.media_type == "application/problem+json"
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["detail"].startswith("Send a valid API token")
    assert world.call("GET", "/api/v1/openapi.json", secret=None).json()["openapi"] == "3.1.0"


def test_flags_are_created_listed_and_shown(world: ApiWorld) -> None:
    secret = world.token("deploy", Scope.READ, Scope.START)
    created = world.call("POST", "/api/v1/flags", NEW_FLAG, secret=secret)
    assert created.status == 201
    assert created.headers["location"] == "/api/v1/flags/new_checkout"
    shown = world.call("GET", "/api/v1/flags/new_checkout", secret=secret).json()
    assert shown == created.json()
    assert shown["value"] is False and shown["active_release"] is None
    assert world.call("GET", "/api/v1/flags", secret=secret).json() == {"flags": [shown]}
    history = world.call("GET", "/api/v1/flags/new_checkout/history", secret=secret).json()
    assert [(e["actor"], e["action"]) for e in history["events"]] == [("token:deploy", "create")]


def test_refusals_are_problems_with_the_cli_sentence(world: ApiWorld) -> None:
    secret = world.token("deploy", Scope.READ, Scope.START)
    world.call("POST", "/api/v1/flags", NEW_FLAG, secret=secret)
    cases = [
        ("GET", "/api/v1/flags/nope", None, 404, "There is no flag nope."),
        ("GET", "/api/v1/flags/bad%20key", None, 422,
         "'bad key' is not a valid flag key: use letters, digits, '_', '.' or '-'."),
        ("POST", "/api/v1/flags", NEW_FLAG, 409, "Flag new_checkout already exists."),
        ("POST", "/api/v1/flags", {**NEW_FLAG, "key": "other", "value": 3}, 422,
         "A feature gate's value must be true or false, not 3."),
        ("POST", "/api/v1/flags", {**NEW_FLAG, "key": "other", "pipeline": "gone"}, 404,
         "There is no pipeline gone in the pipelines file (known: standard)."),
        ("POST", "/api/v1/flags", {**NEW_FLAG, "colour": "red"}, 422,
         "The body has a field colour this request does not take (it takes key, kind, "
         "pipeline, value)."),
        ("GET", "/api/v1/releases/12x", None, 422,
         "ID '12x' is not a release id: write the number release start printed, such as 12."),
        ("GET", "/api/v1/releases/99", None, 404, "There is no release #99."),
        ("GET", "/api/v1/releases?active=maybe", None, 422, "active must be true or false."),
        ("GET", "/api/v1/flags/new_checkout/history?limit=0", None, 422,
         "limit must be a whole number from 1 to 500."),
    ]
    for method, path, body, status, detail in cases:
        answer = world.call(method, path, body, secret=secret)
        assert (answer.status, answer.media_type) == (status, "application/problem+json"), path
        problem = answer.json()
        assert problem["detail"] == detail
        assert problem["status"] == status and problem["type"].startswith("urn:release-bot:")
    broken = world.call("POST", "/api/v1/flags", raw=b'{"key": ', secret=secret)
    assert broken.status == 422 and broken.json()["detail"].startswith("The body is not usable")
    huge = world.call("POST", "/api/v1/flags", raw=b" " * (300 * 1024), secret=secret)
    assert huge.status == 422 and huge.json()["detail"].startswith(
        "The request body is larger than 256 KiB")


def test_a_token_does_only_what_it_was_created_for(world: ApiWorld) -> None:
    reader, starter = world.token("reader", Scope.READ), world.token("starter", Scope.START)
    refused = world.call("POST", "/api/v1/flags", NEW_FLAG, secret=reader)
    assert refused.status == 403
    assert refused.json()["detail"] == ("token:reader may not start: it was created with --can "
                                        "read — create a token with --can start for this.")
    assert world.call("POST", "/api/v1/flags", NEW_FLAG, secret=starter).status == 201
    assert world.call("GET", "/api/v1/flags", secret=starter).status == 403


def test_a_revoked_token_is_refused_on_its_next_request(world: ApiWorld) -> None:
    secret = world.token("deploy", Scope.READ)
    assert world.call("GET", "/api/v1/flags", secret=secret).status == 200
    world.cli.ok("token", "revoke", "deploy")
    assert world.call("GET", "/api/v1/flags", secret=secret).status == 401
    listed = world.cli.ok("token", "list", "--json")
    assert '"revoked_at": null' not in listed and '"last_used_at": "' in listed


def test_a_token_sending_more_than_its_share_is_told_when_to_retry(limited: ApiWorld) -> None:
    secret = limited.token("deploy", Scope.READ)
    answers = [limited.call("GET", "/api/v1/flags", secret=secret) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert answers[-1].json()["detail"].startswith("Token deploy sent more than its share")
    other = limited.token("other", Scope.READ)
    assert limited.call("GET", "/api/v1/flags", secret=other).status == 200


def test_a_database_that_cannot_be_used_is_a_503_not_a_traceback(world: ApiWorld) -> None:
    secret = world.token("deploy", Scope.READ)
    with world.bot.runtime.database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE start_keys")
        connection.exec_driver_sql("DROP TABLE api_tokens")
    answer = world.call("GET", "/api/v1/flags", secret=secret)
    assert (answer.status, answer.media_type) == (503, "application/problem+json")
    assert answer.json()["detail"] == "The database cannot be used right now: retry in a moment."


def test_the_api_serves_with_slack_off(database: Database, database_url: str) -> None:
    serve = RunningServe(Settings(), database, API_PIPELINES)
    try:
        world = ApiWorld(serve, database_url)
        secret = world.token("deploy")
        assert world.call("POST", "/api/v1/flags", NEW_FLAG, secret=secret).status == 201
        started = world.call("POST", "/api/v1/flags/new_checkout/releases", {"value": True},
                             secret=secret)
        assert (started.status, started.json()["state"]) == (201, "baking")
    finally:
        serve.close()
