"""A fake Slack Web API on 127.0.0.1 (a free port) that records every call and can be scripted.

Point a `WebClient` at `FakeSlack().base_url`. Every request is recorded as a `Call`, failures
included, so tests can count retries and wait for asynchronous deliveries with `wait_for`.

`enforce_limits=True` answers HTTP 429 with an integer `Retry-After` like Slack does:
`chat.postMessage` allows a burst of POST_BURST per channel then one per second; the methods in
TIERS allow their tier's calls per minute (a token bucket refilled evenly); others are unlimited.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_TOKEN = "xoxb-fake-token"
TEAM_ID = "T0FAKE"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
POST_BURST = 3
PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
TIERS = {
    "chat.update": 3,
    "chat.postEphemeral": 4,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "users.info": 4,
    "views.open": 4,
    "views.publish": 4,
}
_JSON_FIELDS = ("blocks", "attachments", "view")

Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass(frozen=True)
class Call:
    """One request: method or "response_url", params, lower-cased headers, arrival, our status."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int
    path: str


@dataclass
class Group:
    """A user group the fake workspace has."""

    id: str
    handle: str
    users: list[str] = field(default_factory=list)


class _Bucket:
    """A token bucket: `capacity` calls at once, refilled at `per_second`."""

    def __init__(self, capacity: float, per_second: float, now: float) -> None:
        self.capacity, self.per_second = capacity, per_second
        self.tokens, self.at = capacity, now

    def take(self, now: float) -> float:
        """0 if a call may go now (and count it), else seconds until one may."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class FakeSlack:
    """The fake server; use as a context manager or call start() and stop()."""

    def __init__(
        self,
        groups: Iterable[Group] = (),
        enforce_limits: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enforce_limits = enforce_limits
        self._clock = clock
        self._lock = threading.Condition()
        self._groups = {g.id: g for g in groups}
        self._users: dict[str, dict[str, Any]] = {}
        self._stopping = threading.Event()
        self._ts = itertools.count(100, 100)
        self._view_ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.reset()

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>/api/`, for WebClient(base_url=…)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> FakeSlack:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def _serve(self) -> None:
        """Serve until stop(); a short poll interval keeps stop() quick."""
        self._server.serve_forever(poll_interval=0.01)

    def stop(self) -> None:
        """Stop serving; delayed answers are cut short."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- workspace ---------------------------------------------------------------------------

    def set_group(self, group_id: str, handle: str, users: Iterable[str]) -> None:
        """Create or replace a user group."""
        with self._lock:
            self._groups[group_id] = Group(group_id, handle, list(users))

    def remove_group(self, group_id: str) -> None:
        """Delete a user group."""
        with self._lock:
            self._groups.pop(group_id, None)

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override fields of the user users.info returns (e.g. tz, real_name)."""
        with self._lock:
            self._users[user_id] = fields

    def response_url(self, name: str) -> str:
        """A response_url whose POSTs are recorded as method "response_url"."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/response/{name}"

    # --- recorded calls ----------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every call so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one method, oldest first."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5) -> list[Call]:
        """Block until count calls to method arrived and return them all; AssertionError if not."""
        with self._lock:
            arrived = self._lock.wait_for(lambda: len(self.calls_to(method)) >= count, timeout)
            got = self.calls_to(method)
        if not arrived:
            raise AssertionError(f"{count} call(s) to {method} expected within {timeout}s: {got}")
        return got

    def reset(self) -> None:
        """Forget calls, scripted failures, delays and rate-limit state; groups and users stay."""
        with self._lock:
            self._calls: list[Call] = []
            self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
            self._delays: dict[str, float] = {}
            self._buckets: dict[str, _Bucket] = {}

    # --- scripting ---------------------------------------------------------------------------

    def fail(
        self, method: str, error: str = "channel_not_found", times: int = 1, **extra: Any
    ) -> None:
        """The next `times` calls answer HTTP 200 `{"ok": false, "error": error, **extra}`."""
        self._script(method, times, (200, {"ok": False, "error": error, **extra}, {}))

    def http_status(self, method: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls answer this HTTP status."""
        self._script(method, times, (status, {"ok": False, "error": "fatal_error"}, {}))

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls answer 429 with `Retry-After: retry_after`."""
        self._script(method, times, _limited(retry_after))

    def delay(self, method: str, seconds: float) -> None:
        """Every later call to method waits this long before answering (0 to stop)."""
        with self._lock:
            self._delays[method] = seconds

    def _script(self, method: str, times: int, answer: Answer) -> None:
        with self._lock:
            self._scripts[method].extend([answer] * times)

    # --- serving -----------------------------------------------------------------------------

    def _handle(
        self, method: str, params: dict[str, Any], headers: dict[str, str], path: str
    ) -> Answer:
        """Decide the answer, record the call, then wait out any delay."""
        at = time.monotonic()
        with self._lock:
            answer = self._decide(method, params, headers)
            self._calls.append(Call(method, params, headers, at, answer[0], path))
            self._lock.notify_all()
            delay = self._delays.get(method, 0)
        if delay:
            self._stopping.wait(delay)
        return answer

    def _decide(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> Answer:
        """The scripted, rate-limited or default answer; called with the lock held."""
        if self._scripts[method]:
            return self._scripts[method].popleft()
        if method == "response_url":
            return 200, {"ok": True}, {}
        if not headers.get("authorization", "").startswith("Bearer xox"):
            return 200, {"ok": False, "error": "not_authed"}, {}
        wait = self._rate_limited(method, params) if self.enforce_limits else 0.0
        if wait:
            return _limited(math.ceil(wait))
        responder = _RESPONDERS.get(method)
        if responder is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        try:
            return 200, {"ok": True, **responder(self, params)}, {}
        except _SlackError as exc:
            return 200, {"ok": False, "error": str(exc)}, {}

    def _rate_limited(self, method: str, params: dict[str, Any]) -> float:
        """Seconds the caller must wait, or 0 if this call is within Slack's limits."""
        now = self._clock()
        if method == "chat.postMessage":
            key = f"{method}:{params.get('channel')}"
            bucket = self._buckets.setdefault(key, _Bucket(POST_BURST, 1.0, now))
        elif method in TIERS:
            per_minute = PER_MINUTE[TIERS[method]]
            bucket = self._buckets.setdefault(method, _Bucket(per_minute, per_minute / 60, now))
        else:
            return 0.0
        return bucket.take(now)

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n // 1_000_000}.{n % 1_000_000:06d}"

    # --- default answers (called with the lock held) -----------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake Workspace",
            "user": "release-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        channel = _dm(params.get("channel", ""))
        return {"channel": channel, "ts": ts, "message": _message(params, ts)}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = params.get("ts", "")
        return {
            "channel": params.get("channel"),
            "ts": ts,
            "text": params.get("text", ""),
            "message": _message(params, ts),
        }

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), params.get("message_ts", "")
        link = f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"channel": channel, "permalink": link}

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view") or {}
        view_id = params.get("view_id") or f"V{next(self._view_ids):08d}"
        return {"view": {**view, "id": view_id, "team_id": TEAM_ID, "hash": "fake-hash"}}

    def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        with_users = str(params.get("include_users", "")).lower() in ("1", "true")
        return {"usergroups": [_usergroup(g, with_users) for g in self._groups.values()]}

    def _usergroup_users(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._groups.get(params.get("usergroup", ""))
        if group is None:
            raise _SlackError("no_such_subteam")
        return {"users": list(group.users)}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user", "")
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "tz": "UTC",
            "tz_offset": 0,
            "is_bot": False,
            "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower()},
        }
        return {"user": {**user, **self._users.get(user_id, {})}}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")
        return {"channel": {"id": _dm(users[0])}}


class _SlackError(Exception):
    """Raised by a default answer to reply `{"ok": false, "error": …}`."""


_RESPONDERS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.getPermalink": FakeSlack._permalink,
    "views.open": FakeSlack._view,
    "views.update": FakeSlack._view,
    "views.publish": FakeSlack._view,
    "usergroups.list": FakeSlack._usergroups_list,
    "usergroups.users.list": FakeSlack._usergroup_users,
    "users.info": FakeSlack._users_info,
    "conversations.open": FakeSlack._conversations_open,
}


def _limited(retry_after: int) -> Answer:
    """Slack's 429 answer."""
    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}


def _dm(channel: str) -> str:
    """Posting to a user id lands in the bot's DM with them, whose id starts with D."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def _message(params: dict[str, Any], ts: str) -> dict[str, Any]:
    """The message object Slack echoes back."""
    message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts}
    for key in ("text", "blocks", "thread_ts", "metadata"):
        if key in params:
            message[key] = params[key]
    return message


def _usergroup(group: Group, with_users: bool) -> dict[str, Any]:
    """A usergroups.list entry."""
    entry = {
        "id": group.id,
        "team_id": TEAM_ID,
        "is_usergroup": True,
        "name": group.handle.title(),
        "handle": group.handle,
        "date_delete": 0,
        "user_count": len(group.users),
    }
    return {**entry, "users": list(group.users)} if with_users else entry


def _parse(raw: bytes, query: str, content_type: str) -> dict[str, Any]:
    """Query and body params; JSON bodies as sent, form fields holding JSON (blocks…) decoded."""
    params: dict[str, Any] = dict(parse_qsl(query))
    if raw and content_type.startswith("application/json"):
        params.update(json.loads(raw))
    elif raw:
        form = dict(parse_qsl(raw.decode()))
        for key in _JSON_FIELDS:
            if key in form:
                form[key] = json.loads(form[key])
        params.update(form)
    return params


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one FakeSlack."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith("/api/"):
                method = url.path.removeprefix("/api/")
            elif url.path.startswith("/response/"):
                method = "response_url"
            else:
                self._send(404, {"ok": False, "error": "not_found"}, {})
                return
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            params = _parse(raw, url.query, headers.get("content-type", ""))
            self._send(*fake._handle(method, params, headers, url.path))

        do_GET = do_POST

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet; calls are recorded instead."""

    return Handler
