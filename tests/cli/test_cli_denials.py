"""Who may act, from the pipelines file's `members:` map: denials are one plain sentence on
stderr with exit 1, change nothing, and are kept in the history as `denied`.

Who may act does not depend on the database (refusals are recorded on both databases in
test_cli_state_refusals.py), so these run on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_support import AAA, BBB, CCC, DEV, MGR, OUTSIDER, Cli

KEY = "new_checkout"


def test_each_action_is_open_only_to_its_groups(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "standard", "--value", "false")
    release_id = cli.start(KEY, "true", AAA)  # an approver starts it

    # baking(0): skip and full roll out are the managers'; pause is engineering's
    before = cli.show(release_id)
    for action, actor in [("skip", AAA), ("full-rollout", DEV)]:
        message = cli.refused_act(release_id, action, actor, outcome="denied")
        label = {"skip": "Skip", "full-rollout": "Full Roll Out"}[action]
        assert message == f"You can't {label} release #{release_id}: only @release-managers may."
    message = cli.refused_act(release_id, "pause", OUTSIDER, outcome="denied")
    assert message == f"You can't Pause release #{release_id}: only @engineering may."
    message = cli.refused_act(release_id, "abort", OUTSIDER, "--reason", "x", outcome="denied")
    assert message == f"You can't Abort release #{release_id}: only @engineering may."
    assert cli.show(release_id) == before, "denials changed the release"

    cli.act(release_id, "skip", MGR)
    assert cli.state(release_id) == ("awaiting_approval", 1)

    # awaiting_approval(1): approval is the phase's groups', and not the starter's
    before = cli.show(release_id)
    message = cli.refused_act(release_id, "approve", DEV, outcome="denied")
    assert message == f"You can't Approve release #{release_id}: only @release-approvers may."
    message = cli.refused_act(release_id, "approve", MGR, outcome="denied")
    assert message == f"You can't Approve release #{release_id}: only @release-approvers may."
    message = cli.refused_act(release_id, "approve", AAA, outcome="denied")
    assert message == (
        f"You started release #{release_id}, and pipeline standard does not allow approving "
        "your own release — ask another approver."
    )
    assert cli.show(release_id) == before, "denials changed the release"

    cli.act(release_id, "approve", BBB)
    cli.act(release_id, "skip", MGR)
    assert cli.state(release_id) == ("awaiting_approval", 2)

    # awaiting_approval(2) needs two distinct approvers: the same one twice counts once
    cli.act(release_id, "approve", BBB)
    before = cli.show(release_id)
    message = cli.refused_act(release_id, "approve", BBB)
    assert message == (
        "You have already approved phase Production (1 of 2 approvals) — another approver is "
        "needed."
    )
    assert cli.show(release_id) == before, "a second approval by the same person counted"
    cli.act(release_id, "approve", CCC)
    assert cli.state(release_id) == ("completed", 2)

    outcomes = [(e["actor"], e["action"], e["outcome"]) for e in cli.history(KEY)]
    assert outcomes.count((AAA, "approve", "denied")) == 1
    assert sum(o == "denied" for _, _, o in outcomes) == 7
    text = cli.ok("history", KEY)
    assert "denied" in text and "refused" in text


def test_a_user_id_in_permissions_is_named_plainly(tmp_path: Path) -> None:
    config = tmp_path / "by-user.yml"
    config.write_text(
        "pipelines:\n"
        "  solo:\n"
        "    allow_self_approval: true\n"
        "    permissions: {abort: [U0MGR], approve: [U0DEV]}\n"
        "    phases:\n"
        "      - {name: Everywhere, environments: [production], approval: {}, bake: 1h}\n"
    )
    cli = Cli(f"sqlite:///{tmp_path / 'release-bot.db'}", config)
    cli.ok("flag", "create", "solo_flag", "--kind", "gate", "--pipeline", "solo",
           "--value", "false")
    release_id = cli.start("solo_flag", "true", DEV)
    message = cli.refused_act(release_id, "abort", DEV, "--reason", "x", outcome="denied")
    assert message == f"You can't Abort release #{release_id}: only U0MGR may."
    cli.act(release_id, "approve", DEV)  # allowed: a user id listed, self-approval allowed
    assert cli.state(release_id) == ("baking", 0)
    assert cli.eval("solo_flag", "production", "anyone") is True
