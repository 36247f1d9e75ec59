"""Requests not signed with the signing secret, or signed too long ago, are refused with 401."""

from __future__ import annotations

import json
import time
import urllib.parse

from slack_sdk.signature import SignatureVerifier

from release_bot.core.models import ReleaseState
from tests.support.flows import FLAG, events, start, wait_for_new
from tests.support.harness import ALICE, DEV, SIGNING_SECRET, RunningBot


def approve_body(release_id: int) -> str:
    """A form-encoded Approve click a tester could forge."""
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE},
        "trigger_id": "trigger-forged",
        "container": {"type": "message", "channel_id": "C0RELEASE", "message_ts": "1.1"},
        "channel": {"id": "C0RELEASE"},
        "actions": [
            {
                "action_id": "release_approve",
                "block_id": "release_controls",
                "type": "button",
                "value": f"approve:{release_id}:1",
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


FORGERIES = {
    "wrong-secret": lambda body, now: (
        now,
        SignatureVerifier("not-the-secret").generate_signature(timestamp=str(now), body=body),
    ),
    "garbage-signature": lambda body, now: (now, "v0=" + "0" * 64),
    "six-minutes-old": lambda body, now: (
        now - 360,
        SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=str(now - 360), body=body),
    ),
    "six-minutes-ahead": lambda body, now: (
        now + 360,
        SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=str(now + 360), body=body),
    ),
}


def test_unsigned_or_stale_requests_are_refused(bot: RunningBot) -> None:
    status = start(bot)
    since, history = len(bot.fake.calls), len(events(bot))
    click_body = approve_body(status.release_id)
    command_body = urllib.parse.urlencode(
        {
            "command": "/release",
            "text": f"start {FLAG} false",
            "user_id": DEV,
            "response_url": bot.fake.response_url("forged"),
        }
    )

    for forgery, forge in sorted(FORGERIES.items()):
        for body in (click_body, command_body):
            timestamp, signature = forge(body, int(time.time()))
            answer = bot.post(
                body, "application/x-www-form-urlencoded", timestamp=timestamp, signature=signature
            )
            assert answer.status == 401, forgery

    # A signed request sent afterwards is answered; the forged ones left no trace before it.
    bot.slash(DEV, "help", reply_to="after")
    [after] = wait_for_new(bot.fake, "response_url", since)
    assert after.path == "/response/after"
    assert bot.fake.calls[since:] == [after]
    assert bot.service.release(status.release_id).state is ReleaseState.BAKING
    assert len(events(bot)) == history
