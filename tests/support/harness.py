"""A running release-bot (real Bolt app, uvicorn, delivery, sweeps) against the fake Slack."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from release_bot.bot.runtime.pipelines_file import parse_pipelines
from release_bot.bot.runtime.serve import Runtime
from release_bot.bot.runtime.settings import Settings
from release_bot.core.models import FlagKind
from release_bot.storage import Database
from tests.support.fake_slack import BOT_TOKEN, FakeSlack

SIGNING_SECRET = "test-signing-secret"
CHANNEL = "C0RELEASE"
ALICE, BOB, CAROL, DEV, MGR, OUTSIDER = "U0ALICE", "U0BOB", "U0CAROL", "U0DEV", "U0MGR", "U0OUT"
GROUPS = {
    "S0APPR": ("approvers", [ALICE, BOB, CAROL]),
    "S0ENG": ("eng", [ALICE, BOB, CAROL, DEV, MGR]),
    "S0MGR": ("managers", [MGR]),
}
PIPELINES = f"""
pipelines:
  standard:
    channel: {CHANNEL}
    permissions:
      approve: ["@approvers"]
      pause: ["@eng"]
      unpause: ["@eng"]
      skip: ["@eng"]
      abort: ["@eng"]
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


class Response:
    """What the bot answered over HTTP."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class SlackRequests:
    """Requests to a release-bot's /slack/events, signed and shaped as Slack sends them."""

    def __init__(self, url: str, fake: FakeSlack) -> None:
        self.url = url
        self.fake = fake
        self.signer = SignatureVerifier(SIGNING_SECRET)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        path: str = "/slack/events",
        timeout: float = 10,
    ) -> Response:
        """POST a body signed with the signing secret (or with the given forged values)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or self.signer.generate_signature(timestamp=ts, body=body)
        request = urllib.request.Request(
            self.url + path,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sig,
            },
        )
        return self._send(request, timeout)

    def get(self, path: str) -> Response:
        """A plain GET."""
        return self._send(urllib.request.Request(self.url + path))

    @staticmethod
    def _send(request: urllib.request.Request, timeout: float = 10) -> Response:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Response(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read())

    def interactive(self, payload: Any, **kwargs: Any) -> Response:
        """An interactivity request: form-encoded `payload=<json>`."""
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **kwargs)

    def click(
        self,
        user: str,
        action_id: str,
        value: str,
        *,
        message_ts: str | None = None,
        overflow: bool = False,
        reply_to: str = "click",
    ) -> Response:
        """A block_actions click on the status message (button, or an overflow option)."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": "release_controls",
            "action_ts": "1.2",
        }
        if overflow:
            action |= {"type": "overflow", "selected_option": {"value": value}}
        else:
            action |= {"type": "button", "value": value}
        return self.interactive(
            {
                "type": "block_actions",
                "team": {"id": "T0FAKE"},
                "user": {"id": user},
                "api_app_id": "A0APP",
                "token": "legacy",
                "trigger_id": f"trigger-{user}-{time.monotonic_ns()}",
                "container": {
                    "type": "message",
                    "message_ts": message_ts or "1.1",
                    "channel_id": CHANNEL,
                    "is_ephemeral": False,
                },
                "channel": {"id": CHANNEL},
                "message": {"ts": message_ts or "1.1"},
                "response_url": self.fake.response_url(reply_to),
                "actions": [action],
            }
        )

    def submit(
        self,
        user: str,
        callback_id: str,
        private_metadata: str,
        values: Mapping[str, Mapping[str, Any]],
    ) -> Response:
        """A view_submission of a modal."""
        return self.interactive(
            {
                "type": "view_submission",
                "team": {"id": "T0FAKE"},
                "user": {"id": user},
                "api_app_id": "A0APP",
                "token": "legacy",
                "trigger_id": f"trigger-{user}-{time.monotonic_ns()}",
                "view": {
                    "id": "V0VIEW",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": private_metadata,
                    "state": {"values": values},
                },
            }
        )

    def slash(self, user: str, text: str, reply_to: str = "command", **kwargs: Any) -> Response:
        """A `/release` slash command (`trigger_id=…` to know the modals it opens)."""
        body = urllib.parse.urlencode(
            {
                "token": "legacy",
                "team_id": "T0FAKE",
                "channel_id": CHANNEL,
                "user_id": user,
                "command": "/release",
                "text": text,
                "api_app_id": "A0APP",
                "response_url": self.fake.response_url(reply_to),
                "trigger_id": kwargs.pop("trigger_id", f"trigger-{user}-{time.monotonic_ns()}"),
            }
        )
        return self.post(body, "application/x-www-form-urlencoded", **kwargs)

    def event(self, event: Mapping[str, Any], **kwargs: Any) -> Response:
        """An Events API delivery."""
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T0FAKE",
                "api_app_id": "A0APP",
                "type": "event_callback",
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
                "event": dict(event),
            }
        )
        return self.post(body, "application/json", **kwargs)



class RunningServe:
    """release-bot's `serve` on a free port, in-process: timers, health and every front."""

    def __init__(self, settings: Settings, database: Database, pipelines: str) -> None:
        self.runtime = Runtime(settings, database, parse_pipelines(pipelines))
        self.service = self.runtime.service
        self.server = self.runtime.http_server(0, "127.0.0.1")
        self.server.start()
        self.runtime.start_background()
        self.base_url = self.server.base_url

    def close(self) -> None:
        """Stop serving, sweeping and delivering."""
        self.runtime.stop_background()
        self.server.stop()


class RunningBot(RunningServe, SlackRequests):
    """release-bot serving HTTP on a free port, its Web API calls going to a FakeSlack."""

    def __init__(self, fake: FakeSlack, database: Database, pipelines: str = PIPELINES,
                 **more: Any) -> None:
        for group_id, (handle, users) in GROUPS.items():
            fake.set_group(group_id, handle, users)
        settings = Settings(
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_url=fake.base_url,
            **more,
        )
        RunningServe.__init__(self, settings, database, pipelines)
        slack = self.runtime.slack
        assert slack is not None
        self.slack = slack
        SlackRequests.__init__(self, self.base_url, fake)

    def create_flag(self, key: str = "new_checkout", value: Any = False) -> None:
        """A gate on the standard pipeline, created as the CLI would."""
        self.service.create_flag(
            key, FlagKind.GATE, "standard", value, DEV, self.slack.ctx.clock()
        )

    def wait_until(self, predicate: Any, timeout: float = 5.0) -> None:
        """Poll a condition that background work makes true (never a blind sleep)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)
