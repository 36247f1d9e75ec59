"""API access on the real database: tokens, token principals, and idempotent starts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from release_bot.core.errors import DomainError, InvalidInput, Kind, RuleBroken
from release_bot.core.models import Action, Command, FlagKind, Outcome, Release, Scope
from release_bot.core.service import ReleaseService
from release_bot.core.tokens import TokenService
from release_bot.storage import Database
from tests.support.samples import ENGINEERS, NOW, TRIGGERER, standard_pipeline, team

SECRET = "rbt_" + "s" * 43
CI = "token:ci"


def test_a_token_is_kept_as_a_digest_and_ends_when_revoked(database: Database) -> None:
    tokens = TokenService(database.uow)
    created = tokens.create("ci", [Scope.START, Scope.READ], SECRET, TRIGGERER, NOW)
    assert created.principal == CI
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM api_tokens")).mappings().one()
    assert SECRET not in {str(v) for v in stored.values()}
    assert tokens.authenticate(SECRET, NOW).scopes == {Scope.START, Scope.READ}
    tokens.authenticate(SECRET, NOW + timedelta(seconds=30))
    [listed] = tokens.tokens()
    assert listed.last_used_at == NOW  # noted to the minute: the second use wrote nothing
    tokens.authenticate(SECRET, NOW + timedelta(minutes=2))
    assert tokens.tokens()[0].last_used_at == NOW + timedelta(minutes=2)

    tokens.revoke("ci", NOW + timedelta(minutes=3))
    with pytest.raises(DomainError) as refused:
        tokens.authenticate(SECRET, NOW + timedelta(minutes=4))
    assert refused.value.kind is Kind.UNAUTHENTICATED
    with pytest.raises(InvalidInput) as again:
        tokens.create("ci", [Scope.READ], "another secret", TRIGGERER, NOW)
    assert again.value.kind is Kind.CONFLICT


def test_an_unknown_secret_and_bad_names_are_refused(database: Database) -> None:
    tokens = TokenService(database.uow)
    with pytest.raises(DomainError) as unknown:
        tokens.authenticate("nope", NOW)
    assert unknown.value.kind is Kind.UNAUTHENTICATED
    for name in ("", "has space", "x" * 65, "token:ci"):
        with pytest.raises(InvalidInput):
            tokens.create(name, [Scope.READ], SECRET, TRIGGERER, NOW)
    with pytest.raises(InvalidInput):
        tokens.create("ci", [], SECRET, TRIGGERER, NOW)


def _service(database: Database) -> ReleaseService:
    pipeline = standard_pipeline()
    permissions = {**pipeline.permissions, Action.PAUSE: (ENGINEERS, CI)}
    service = ReleaseService(database.uow, {"standard": replace(pipeline, permissions=permissions)},
                             team())
    service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
    return service


def _act(service: ReleaseService, release: Release, action: Action,
         scopes: frozenset[Scope]) -> Release:
    command = Command(release.id or 0, action, CI, phase=release.phase, scopes=scopes)
    return service.act(command, NOW)


def test_a_token_acts_where_the_pipeline_lists_it_and_never_approves(database: Database) -> None:
    service = _service(database)
    release = service.start_release("new_checkout", True, CI, NOW,
                                    scopes=frozenset({Scope.START}))
    with pytest.raises(RuleBroken) as unscoped:
        _act(service, release, Action.PAUSE, frozenset({Scope.START}))
    assert unscoped.value.kind is Kind.PERMISSION
    assert "created with --can start" in unscoped.value.message
    paused = _act(service, release, Action.PAUSE, frozenset({Scope.ACT}))
    with pytest.raises(RuleBroken) as unlisted:  # skip is for @release-managers only
        _act(service, paused, Action.SKIP, frozenset({Scope.ACT}))
    assert "only @release-managers may" in unlisted.value.message
    with pytest.raises(RuleBroken) as approving:
        _act(service, paused, Action.APPROVE, frozenset({Scope.ACT}))
    assert approving.value.code == "TokensNeverApprove"
    denied = [(e.action, e.rule) for e in service.history("new_checkout")
              if e.outcome is Outcome.DENIED]
    assert denied == [("pause", "TokenHasScope"), ("skip", "ActorIsPermitted"),
                      ("approve", "TokensNeverApprove")]


def test_a_start_without_the_start_scope_is_denied_and_kept(database: Database) -> None:
    service = _service(database)
    with pytest.raises(RuleBroken) as denied:
        service.start_release("new_checkout", True, CI, NOW, scopes=frozenset({Scope.READ}))
    assert denied.value.kind is Kind.PERMISSION
    assert [e.rule for e in service.history("new_checkout")][-1] == "TokenHasScope"
    assert service.releases() == []


def test_one_key_starts_one_release_and_refuses_another_request(database: Database) -> None:
    service = _service(database)
    first, new = service.start_once("new_checkout", True, CI, NOW, "deploy-1")
    again, twice = service.start_once("new_checkout", True, CI, NOW, "deploy-1")
    assert (new, twice, again.id) == (True, False, first.id)
    with pytest.raises(InvalidInput) as other:
        service.start_once("new_checkout", {"x": 1}, CI, NOW, "deploy-1")
    assert other.value.kind is Kind.INPUT
    assert "Idempotency-Key 'deploy-1' was sent before with another request" in other.value.message
    assert len(service.releases()) == 1
    assert len(service.flag("new_checkout")[1]) == 2


def test_a_refused_start_keeps_no_key(database: Database) -> None:
    service = _service(database)
    with pytest.raises(RuleBroken):
        service.start_once("new_checkout", False, CI, NOW, "deploy-1")  # changes nothing
    release, new = service.start_once("new_checkout", True, CI, NOW, "deploy-1")
    assert new and release.to_version == 2


def test_ten_concurrent_starts_with_one_key_start_one_release(database: Database) -> None:
    service = _service(database)
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(
            lambda _: service.start_once("new_checkout", True, CI, NOW, "deploy-7"), range(10)))
    assert len({release.id for release, _ in results}) == 1
    assert [new for _, new in results].count(True) == 1
    assert len(service.releases()) == 1
    assert len(service.flag("new_checkout")[1]) == 2
