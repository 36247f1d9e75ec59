"""A port that cannot be bound is one sentence about PORT, not an internal error."""

from __future__ import annotations

import socket

import pytest

from release_bot.bot.runtime.http import HttpServer, build_http_app
from release_bot.core.errors import DomainError


def test_a_port_in_use_is_one_sentence_naming_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(DomainError) as refused:
            HttpServer(build_http_app([]), "127.0.0.1", port)
    assert refused.value.message.startswith(f"PORT {port} cannot be bound on 127.0.0.1")
    assert "\n" not in refused.value.message
