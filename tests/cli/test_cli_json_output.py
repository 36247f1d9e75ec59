"""`--json` output parses and carries what scripts need: state, phase index, each phase's
status, approvals, the bake timer (`bake_ends_at` while baking, `remaining` while paused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.cli_support import AAA, BBB, DEV, MGR, Cli

KEY = "new_checkout"
RELEASE_KEYS = {
    "id", "flag", "pipeline", "state", "phase", "phase_name", "phases", "approvals",
    "bake_ends_at", "held_since", "remaining", "actions", "from_version", "to_version",
    "from_value", "to_value", "triggered_by", "created_at", "ended_at",
}


def statuses(shown: dict[str, Any]) -> list[str]:
    return [p["status"] for p in shown["phases"]]


def seconds_until(iso: str) -> float:
    return (datetime.fromisoformat(iso) - datetime.now(UTC)).total_seconds()


def test_release_show_follows_the_release(cli: Cli) -> None:
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    release_id = cli.start(KEY, "true", DEV)

    shown = cli.show(release_id)
    assert set(shown) == RELEASE_KEYS
    assert (shown["id"], shown["flag"], shown["pipeline"]) == (release_id, KEY, "standard")
    assert (shown["state"], shown["phase"], shown["phase_name"]) == ("baking", 0, "Staging")
    assert statuses(shown) == ["baking", "pending", "pending"]
    assert [p["index"] for p in shown["phases"]] == [0, 1, 2]
    assert shown["phases"][1]["percentage"] == 10
    assert shown["phases"][2]["approval"] == {
        "groups": ["@release-approvers"], "required": 2, "approved_by": [],
    }
    assert 29 * 60 < seconds_until(shown["bake_ends_at"]) <= 30 * 60
    assert shown["remaining"] is None
    assert shown["actions"] == ["pause", "skip", "abort", "full_rollout"]
    assert (shown["from_version"], shown["to_version"]) == (1, 2)
    assert (shown["from_value"], shown["to_value"], shown["triggered_by"]) == (False, True, DEV)
    assert shown["ended_at"] is None

    cli.act(release_id, "skip", MGR)
    shown = cli.show(release_id)
    assert (shown["state"], shown["phase"]) == ("awaiting_approval", 1)
    assert statuses(shown) == ["skipped", "awaiting_approval", "pending"]
    assert shown["bake_ends_at"] is None and shown["remaining"] is None
    assert shown["actions"] == ["approve", "abort", "full_rollout"]

    acted = cli.json("release", "act", str(release_id), "approve", "--as", AAA)
    assert set(acted) == RELEASE_KEYS
    assert (acted["state"], acted["phase"]) == ("baking", 1)
    assert [(a["phase"], a["user"]) for a in acted["approvals"]] == [(1, AAA)]
    assert acted["phases"][1]["approval"]["approved_by"] == [AAA]
    assert 119 * 60 < seconds_until(acted["bake_ends_at"]) <= 120 * 60

    cli.act(release_id, "pause", DEV)
    shown = cli.show(release_id)
    assert (shown["state"], statuses(shown)) == ("paused", ["skipped", "paused", "pending"])
    assert shown["bake_ends_at"] is None
    assert 119 * 60 < shown["remaining"] <= 120 * 60

    cli.act(release_id, "unpause", DEV)
    cli.act(release_id, "skip", MGR)
    cli.act(release_id, "approve", AAA)
    done = cli.json("release", "act", str(release_id), "approve", "--as", BBB)
    assert (done["state"], statuses(done)) == ("completed", ["skipped", "skipped", "done"])
    assert [(a["phase"], a["user"]) for a in done["approvals"]] == [(1, AAA), (2, AAA), (2, BBB)]
    assert done["actions"] == [] and done["ended_at"] is not None
    assert done["bake_ends_at"] is None and done["remaining"] is None


def test_release_list_flags_and_history(cli: Cli) -> None:
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    cli.ok("flag", "create", "limits", "--kind", "config", "--pipeline", "fast",
           "--value", '{"limit": 5}')
    aborted = cli.start(KEY, "true", DEV)
    cli.act(aborted, "abort", DEV, "--reason", "typo")
    active = cli.start(KEY, "true", DEV)
    other = cli.start("limits", '{"limit": 10}', MGR)

    listed = cli.json("release", "list")
    assert [r["id"] for r in listed] == [other, active, aborted], "newest first"
    assert listed[-1] == {
        "id": aborted, "flag": KEY, "state": "aborted", "phase": 0, "phase_name": "Staging",
    }
    assert [r["id"] for r in cli.json("release", "list", "--active")] == [other, active]
    assert [r["id"] for r in cli.json("release", "list", "--flag", KEY)] == [active, aborted]
    assert [r["id"] for r in cli.json("release", "list", "--active", "--flag", "limits")] == [
        other
    ]
    rows = cli.ok("release", "list", "--active").splitlines()
    assert [row.split("\t")[0] for row in rows] == [f"#{other}", f"#{active}"]

    flags = cli.json("flag", "list")
    assert [(f["key"], f["kind"], f["pipeline"], f["value"], f["active_release"]) for f in flags] \
        == sorted([
            (KEY, "gate", "standard", False, active),
            ("limits", "config", "fast", {"limit": 5}, other),
        ])
    assert cli.json("flag", "show", KEY) == {
        "key": KEY, "kind": "gate", "pipeline": "standard", "default_version": 1,
        "value": False, "environments": {}, "versions": 3, "active_release": active,
    }

    events = cli.history(KEY)
    assert all(
        set(e) == {"at", "actor", "action", "outcome", "release", "phase", "from_state",
                   "to_state", "reason", "rule", "message"}
        for e in events
    )
    assert [(e["action"], e["release"], e["to_state"]) for e in events] == [
        ("create", None, None),
        ("trigger", aborted, "baking(0)"),
        ("abort", aborted, "aborted"),
        ("trigger", active, "baking(0)"),
    ]
    assert events[2]["reason"] == "typo"
    assert datetime.fromisoformat(events[0]["at"]) > datetime.now(UTC) - timedelta(minutes=1)


def test_tick_json_lists_what_it_advanced(cli: Cli) -> None:
    assert cli.json("release", "tick") == []
    assert cli.ok("release", "tick") == "0 release(s) advanced\n"
