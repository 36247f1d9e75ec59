"""What each state allows: a refused action is one sentence that says what is possible now,
exits 1, changes nothing and is kept in the history as `refused`.

The walk through every state and the one-active-release rule (a query) run on both databases;
the rest on SQLite, as refusals are recorded the same way whatever the database."""

from __future__ import annotations

from tests.support.cli_support import AAA, DEV, MGR, Cli

KEY = "new_checkout"


def test_each_state_refuses_what_it_does_not_accept(cli: Cli) -> None:
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    release_id = cli.start(KEY, "true", DEV)

    # baking(0)
    before = cli.show(release_id)
    assert cli.refused_act(release_id, "approve", AAA) == (
        "Phase Staging is live and needs no approval — use Pause, Skip, Abort or Full Roll Out."
    )
    assert cli.refused_act(release_id, "unpause", DEV) == (
        "Phase Staging is live and baking — nothing is waiting for approval or paused — use "
        "Pause, Skip, Abort or Full Roll Out."
    )
    abort_needs_a_reason = "Abort needs a reason: say why, so the history explains the rollback."
    # a missing reason is input to correct (exit 2), and still kept in the history
    assert cli.refused_act(release_id, "abort", DEV, code=2) == abort_needs_a_reason
    assert cli.refused_act(release_id, "abort", DEV, "--reason", "  ", code=2) == (
        abort_needs_a_reason
    )
    assert cli.show(release_id) == before, "refusals changed the release"

    # paused(0)
    cli.act(release_id, "pause", DEV)
    assert cli.refused_act(release_id, "pause", DEV) == (
        "The bake timer of phase Staging is already paused — use Unpause, Skip, Abort or "
        "Full Roll Out."
    )

    # awaiting_approval(1): skip never bypasses an approval gate; old --phase is out of date
    cli.act(release_id, "skip", MGR, "--phase", "1")
    before = cli.show(release_id)
    assert (before["state"], before["phase"]) == ("awaiting_approval", 1)
    assert cli.refused_act(release_id, "skip", MGR) == (
        "Phase Production canary is waiting for approval — use Approve, Abort or Full Roll Out."
    )
    assert cli.refused_act(release_id, "pause", DEV) == (
        "Phase Production canary is waiting for approval — use Approve, Abort or Full Roll Out."
    )
    assert cli.refused_act(release_id, "abort", DEV, "--phase", "1", "--reason", "old tab") == (
        f"This was out of date: it was for phase Staging, but release #{release_id} is now at "
        "phase Production canary (awaiting approval)."
    )
    assert cli.show(release_id) == before, "refusals changed the release"

    # the current --phase is accepted
    cli.act(release_id, "approve", AAA, "--phase", "2")
    assert cli.state(release_id) == ("baking", 1)
    assert cli.refused_act(release_id, "approve", AAA) == (
        "Phase Production canary is already approved and live — use Pause, Skip, Abort or "
        "Full Roll Out."
    )

    # a --phase the release does not have is bad input (exit 2), not kept in the history
    events = len(cli.history(KEY))
    for phase in ("0", "4", "-1"):
        message = cli.fail(
            "release", "act", str(release_id), "skip", "--as", MGR, "--phase", phase, code=2
        )
        assert message == (
            f"--phase {phase} is not a phase of release #{release_id}: it has phases 1 to 3."
        )
    assert len(cli.history(KEY)) == events
    assert cli.state(release_id) == ("baking", 1)


def test_nothing_more_happens_to_an_ended_release(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    completed = cli.start(KEY, "true", DEV)
    cli.act(completed, "full-rollout", MGR)
    before = cli.show(completed)
    for action, actor in [("abort", DEV), ("pause", DEV), ("approve", AAA), ("full-rollout", MGR)]:
        assert cli.refused_act(completed, action, actor, "--reason", "late") == (
            f"Release #{completed} of new_checkout has already completed — nothing is left."
        )
    assert cli.show(completed) == before
    assert cli.eval(KEY, "production", "anyone") is True

    aborted = cli.start(KEY, "false", DEV)
    cli.act(aborted, "abort", DEV, "--reason", "wrong value")
    before = cli.show(aborted)
    for action, actor in [("unpause", DEV), ("skip", MGR), ("abort", DEV)]:
        assert cli.refused_act(aborted, action, actor, "--reason", "again") == (
            f"Release #{aborted} of new_checkout was aborted, which cannot be undone — start a "
            "new release to try again."
        )
    assert cli.show(aborted) == before
    assert cli.eval(KEY, "production", "anyone") is True


def test_one_active_release_per_flag(cli: Cli) -> None:
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    release_id = cli.start(KEY, "true", DEV)
    message = cli.fail("release", "start", KEY, "--value", "true", "--by", AAA)
    assert message == (
        f"new_checkout already has an active release (#{release_id}, baking(0)) — complete or "
        "abort it first."
    )
    assert [r["id"] for r in cli.json("release", "list")] == [release_id]
    assert cli.json("flag", "show", KEY)["versions"] == 2, "a refused start adds no version"
    last = cli.history(KEY)[-1]
    assert (last["actor"], last["action"], last["outcome"]) == (AAA, "trigger", "refused")

    cli.act(release_id, "abort", DEV, "--reason", "superseded")
    assert cli.start(KEY, "true", AAA) == release_id + 1, "after abort a new release may start"
