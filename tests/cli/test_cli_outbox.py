"""`release-bot outbox list`: what Slack was or will be told, and what failed for good."""

from tests.support.cli_support import DEV, Cli


def test_outbox_lists_what_a_release_queued_and_filters_failed(cli: Cli) -> None:
    cli.ok("flag", "create", "f", "--kind", "gate", "--pipeline", "standard", "--value", "false")
    release_id = cli.start("f", "true", DEV)
    rows = cli.json("outbox", "list", "--json")
    assert [(r["release"], r["kind"], r["status"]) for r in rows] == [
        (release_id, "release_started", "pending")
    ]
    assert cli.json("outbox", "list", "--pending", "--json") == rows
    assert cli.json("outbox", "list", "--failed", "--json") == []
    assert cli.ok("outbox", "list").splitlines()[-1] == "1 row(s)"
