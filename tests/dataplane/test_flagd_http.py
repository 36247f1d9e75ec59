"""GET /environments/{env}/flagd.json: the document, its ETag, 304, keys, unknown environments."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import timedelta

import pytest
import requests

from release_bot.bot.dataplane.flagd_routes import flagd_routes
from release_bot.bot.runtime.http import HttpServer, build_http_app
from release_bot.core.models import FlagKind, Phase, Pipeline
from release_bot.core.service import ReleaseService
from release_bot.storage import Database
from tests.support.flagd_views import ServiceViews
from tests.support.samples import NOW, TRIGGERER, team

KEY = "new_checkout"


class Keys:
    """production may be read with `secret`; nothing else may be read."""

    def allows(self, environment: str, headers: Mapping[str, str]) -> bool:
        return environment == "production" and headers.get("x-api-key") == "secret"


@pytest.fixture
def views(database: Database) -> ServiceViews:
    canary = Phase("Canary", ("production",), percentage=25, bake=timedelta(hours=1))
    pipeline = Pipeline("p", (canary,))
    service = ReleaseService(database.uow, {"p": pipeline}, team())
    service.create_flag(KEY, FlagKind.GATE, "p", False, TRIGGERER, NOW)
    return ServiceViews(service, ("production",))


def serve(views: ServiceViews, keys: Keys | None) -> Iterator[str]:
    server = HttpServer(build_http_app(flagd_routes(views, keys)), "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}/environments"
    finally:
        server.stop()


@pytest.fixture
def open_url(views: ServiceViews) -> Iterator[str]:
    yield from serve(views, None)


@pytest.fixture
def keyed_url(views: ServiceViews) -> Iterator[str]:
    yield from serve(views, Keys())


def test_the_document_comes_with_an_etag_and_a_304_until_it_changes(open_url, views):
    first = requests.get(f"{open_url}/production/flagd.json", timeout=5)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert json.loads(first.text)["flags"][KEY]["variants"] == {"v1": False}
    etag = first.headers["etag"]

    again = requests.get(f"{open_url}/production/flagd.json", headers={"If-None-Match": etag},
                         timeout=5)
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)

    views.service.start_release(KEY, True, TRIGGERER, NOW)
    views.publish()
    changed = requests.get(f"{open_url}/production/flagd.json", headers={"If-None-Match": etag},
                           timeout=5)
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    flag = changed.json()["flags"][KEY]
    assert flag["targeting"]["if"][0]["or"][0]["=="][0] == {
        "fractional": [["v2", 2500], ["v1", 7500]]}


def test_an_environment_no_pipeline_names_is_one_sentence(open_url):
    answer = requests.get(f"{open_url}/dev/flagd.json", timeout=5)
    assert (answer.status_code, answer.json()) == (
        404, {"error": "No pipeline names the environment 'dev'."})


@pytest.mark.parametrize(("environment", "headers"), [
    ("production", {}),
    ("production", {"X-API-Key": "wrong"}),
    ("dev", {"X-API-Key": "secret"}),
])
def test_without_the_environments_key_the_answer_is_401_and_empty(keyed_url, environment,
                                                                  headers):
    answer = requests.get(f"{keyed_url}/{environment}/flagd.json", headers=headers, timeout=5)
    assert (answer.status_code, answer.content) == (401, b"")


def test_with_the_key_the_document_is_served(keyed_url):
    answer = requests.get(f"{keyed_url}/production/flagd.json", headers={"X-API-Key": "secret"},
                          timeout=5)
    assert answer.status_code == 200 and KEY in answer.json()["flags"]


def test_if_none_match_takes_lists_weak_tags_and_a_star(open_url):
    etag = requests.get(f"{open_url}/production/flagd.json", timeout=5).headers["etag"]
    for header in (f'"other", {etag}', f"W/{etag}", "*"):
        answer = requests.get(f"{open_url}/production/flagd.json",
                              headers={"If-None-Match": header}, timeout=5)
        assert answer.status_code == 304, header
    stale = requests.get(f"{open_url}/production/flagd.json",
                         headers={"If-None-Match": '"other"'}, timeout=5)
    assert stale.status_code == 200
