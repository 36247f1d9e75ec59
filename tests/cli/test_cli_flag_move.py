"""`flag move`: the way out for a flag whose pipeline was removed from the pipelines file, on
SQLite and Postgres; a move that cannot be done changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli_support import AAA, DEV, Cli, sentence

KEY = "new_checkout"


def rename_fast_pipeline(pipelines_yml: Path) -> None:
    """Edit the pipelines file as an operator might: pipeline `fast` becomes `quick`."""
    text = pipelines_yml.read_text()
    assert text.count("\n  fast:\n") == 1
    pipelines_yml.write_text(text.replace("\n  fast:\n", "\n  quick:\n"))


def test_a_flag_whose_pipeline_was_removed_moves_and_releases_again(
    cli: Cli, pipelines_yml: Path
) -> None:
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "fast", "--value", "false")
    rename_fast_pipeline(pipelines_yml)

    message = cli.fail("release", "start", KEY, "--value", "true", "--by", DEV)
    assert message == (
        "new_checkout is on pipeline fast, which is no longer in the pipelines file — move it "
        "to one that is (quick, standard) with: release-bot flag move new_checkout "
        "--pipeline NAME --by USER_ID."
    )
    assert sentence(message)
    assert cli.json("release", "list") == []

    assert cli.ok("flag", "move", KEY, "--pipeline", "standard", "--by", DEV) == (
        "moved new_checkout to pipeline standard\n"
    )
    assert cli.json("flag", "show", KEY)["pipeline"] == "standard"
    moved = cli.history(KEY)[-1]
    assert (moved["action"], moved["actor"], moved["outcome"], moved["message"]) == (
        "move", DEV, "ok", "moved new_checkout from pipeline fast to pipeline standard"
    )

    release_id = cli.start(KEY, "true", DEV)
    shown = cli.show(release_id)
    assert (shown["pipeline"], shown["state"], shown["phase_name"]) == (
        "standard", "baking", "Staging"
    )


def test_a_move_that_cannot_be_done_changes_nothing(cli: Cli) -> None:
    cli.ok("flag", "create", KEY, "--kind", "gate", "--pipeline", "fast", "--value", "false")
    release_id = cli.start(KEY, "true", DEV)
    flag, history = cli.json("flag", "show", KEY), cli.history(KEY)
    move = ["flag", "move", KEY, "--by", DEV, "--pipeline"]
    assert cli.fail(*move, "standard") == (
        f"new_checkout already has an active release (#{release_id}, baking(0)) — complete or "
        "abort it first."
    )
    assert cli.fail(*move, "fast") == "new_checkout is already on pipeline fast."
    assert cli.fail(*move, "nope") == (
        "There is no pipeline nope in the pipelines file (known: fast, standard)."
    )
    assert cli.fail("flag", "move", "nope", "--pipeline", "standard", "--by", DEV) == (
        "There is no flag nope."
    )
    assert cli.fail("flag", "move", KEY, "--pipeline", "standard", "--by", " ", code=2) == (
        "--by is empty: give the Slack user id of who acts, such as U0123ABCD."
    )
    assert cli.fail("flag", "move", KEY, "--pipeline", "", "--by", AAA, code=2) == (
        "--pipeline is empty: give the name of a pipeline of the pipelines file."
    )
    assert (cli.json("flag", "show", KEY), cli.history(KEY)) == (flag, history)
