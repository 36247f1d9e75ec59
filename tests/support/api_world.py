"""A running release-bot seen from a deploy pipeline: tokens, and requests to /api/v1."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release_bot.core.models import Scope
from tests.support.cli_support import Cli
from tests.support.harness import CHANNEL, RunningServe

# the harness's pipeline and groups, with the deploy token allowed to steer it
API_PIPELINES = f"""
pipelines:
  standard:
    channel: {CHANNEL}
    permissions:
      approve: ["@approvers"]
      pause: ["@eng", "token:deploy"]
      unpause: ["@eng", "token:deploy"]
      skip: ["@eng", "token:deploy"]
      abort: ["@eng", "token:deploy"]
      full_rollout: ["@managers"]
    phases:
      - name: Staging
        environments: [staging]
        bake: 1h
      - name: Production canary
        environments: [production]
        percentage: 10
        approval: {{groups: ["@approvers"], required: 1}}
        bake: 1h
      - name: Production
        environments: [production]
        approval: {{groups: ["@approvers"], required: 2}}
"""


@dataclass(frozen=True)
class Answer:
    """What the API answered."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters."""
        return self.headers.get("content-type", "").split(";")[0]


class ApiWorld:
    """Tokens on the bot's database and HTTP requests to its API."""

    def __init__(self, bot: RunningServe, database_url: str) -> None:
        self.bot = bot
        self.base_url = bot.base_url
        self.cli = Cli(database_url, None)

    def token(self, name: str, *scopes: Scope) -> str:
        """`release-bot token create NAME --can …` (every scope by default); its secret."""
        can = [arg for scope in scopes or tuple(Scope) for arg in ("--can", scope.value)]
        return self.cli.ok("token", "create", name, *can).splitlines()[-1]

    def call(self, method: str, path: str, body: Any = None, *, secret: str | None,
             headers: Mapping[str, str] | None = None, raw: bytes | None = None) -> Answer:
        """One request; `body` is sent as JSON, `raw` as it is."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if secret is not None:
            sent["Authorization"] = f"Bearer {secret}"
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Answer(answer.status, _lower(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}
