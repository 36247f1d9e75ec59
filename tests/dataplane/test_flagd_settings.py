"""FLAGD_SYNC_PORT and FLAGD_SYNC_HOST: the gRPC sync runs only when its port is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_bot.bot.runtime.settings import Settings


def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    for name in ("FLAGD_SYNC_PORT", "FLAGD_SYNC_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_environment(env_file=tmp_path / "none.env")


def test_without_a_port_there_is_no_sync_service_and_the_host_is_loopback(monkeypatch, tmp_path):
    found = settings(monkeypatch, tmp_path)
    assert (found.flagd_sync_port, found.flagd_sync_host) == (None, "127.0.0.1")
    assert settings(monkeypatch, tmp_path, FLAGD_SYNC_PORT=" ").flagd_sync_port is None
    assert settings(monkeypatch, tmp_path, FLAGD_SYNC_HOST="").flagd_sync_host == "127.0.0.1"


def test_a_port_and_host_are_read(monkeypatch, tmp_path):
    found = settings(monkeypatch, tmp_path, FLAGD_SYNC_PORT=" 8015 ", FLAGD_SYNC_HOST="0.0.0.0 ")
    assert (found.flagd_sync_port, found.flagd_sync_host) == (8015, "0.0.0.0")


@pytest.mark.parametrize("port", ["grpc", "0", "70000"])
def test_a_bad_port_is_one_sentence_naming_the_setting(monkeypatch, tmp_path, port):
    with pytest.raises(ValueError, match=rf"^FLAGD_SYNC_PORT is not valid \('{port}'\): write a "
                                          r"whole number from 1 to 65535, such as 8015\.$"):
        settings(monkeypatch, tmp_path, FLAGD_SYNC_PORT=port)
