"""RELEASE_BOT_SDK_KEYS: each environment's keys, as a bearer token or an X-API-Key header."""

from __future__ import annotations

import pytest

from release_bot.bot.dataplane.keys import SdkKeys
from release_bot.bot.dataplane.routes import routes
from release_bot.bot.dataplane.snapshot import Snapshot
from release_bot.bot.runtime.settings import Settings
from release_bot.storage import Database

KEYS = SdkKeys.parse(" production:p-key , staging:s-key,production:p-next")


@pytest.mark.parametrize(("environment", "headers", "allowed"), [
    ("production", {"authorization": "Bearer p-key"}, True),
    ("production", {"authorization": "bearer p-next"}, True),
    ("production", {"x-api-key": "p-key"}, True),
    ("staging", {"x-api-key": "s-key"}, True),
    ("production", {"x-api-key": "s-key"}, False),
    ("production", {"authorization": "Basic p-key"}, False),
    ("production", {"authorization": "Bearer "}, False),
    ("production", {}, False),
    ("qa", {"x-api-key": "p-key"}, False),
])
def test_a_request_needs_one_of_its_environments_keys(
    environment: str, headers: dict[str, str], allowed: bool
) -> None:
    assert KEYS.allows(environment, headers) is allowed


@pytest.mark.parametrize(("text", "pair"), [
    ("qa", 1), ("qa:", 1), (":hunter2", 1), ("qa:hunter2,,dev:x", 2)])
def test_a_malformed_list_is_refused_without_repeating_a_key(text: str, pair: int) -> None:
    with pytest.raises(ValueError, match=f"pair {pair}\\): write environment:key") as refused:
        SdkKeys.parse(text)
    assert "hunter2" not in str(refused.value)


def test_settings_read_the_keys_and_an_empty_value_leaves_reads_open(tmp_path, monkeypatch):
    monkeypatch.setenv("RELEASE_BOT_SDK_KEYS", "production:secret-key")
    settings = Settings.from_environment(tmp_path / ".env")
    assert settings.release_bot_sdk_keys is not None
    assert "secret-key" not in repr(settings)
    monkeypatch.setenv("RELEASE_BOT_SDK_KEYS", " ")
    assert Settings.from_environment(tmp_path / ".env").release_bot_sdk_keys is None


def test_serve_says_once_that_reads_are_open_or_which_keyed_environment_is_unknown(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    snapshot = Snapshot(database, ("staging", "production"))
    routes(snapshot, None)
    assert caplog.text.count("RELEASE_BOT_SDK_KEYS is not set") == 1
    caplog.clear()
    routes(snapshot, SdkKeys.parse("production:a,prod:b"))
    assert "has keys for 'prod', which no pipeline names" in caplog.text
    assert "'production'" not in caplog.text and "not set" not in caplog.text
