"""The real `.venv/bin/release-bot` as a new user runs it: the README's walk-through in a
fresh directory with the default SQLite file, then the exit codes a script can rely on."""

from __future__ import annotations

import re

from tests.support import readme_walkthrough
from tests.support.cli_support import error_sentence


def test_a_new_user_follows_the_readme() -> None:
    walkthrough = readme_walkthrough.running or readme_walkthrough.start()
    try:
        code, out, err = walkthrough.result()
        assert code == 0, err
        assert err == ""
        workdir = walkthrough.workdir
        assert (workdir / "pipelines.yml").exists(), "cp -n pipelines.example.yml pipelines.yml"
        assert (workdir / "release-bot.db").exists(), "the default SQLite file, made and upgraded"
        assert "pipelines.yml: OK, 2 pipeline(s)" in out
        assert "created gate new_checkout (pipeline standard)" in out
        assert re.search(r"^id=1$", out, re.MULTILINE), "the release id is the last line"
        assert re.search(r"^true$", out, re.MULTILINE), "staging serves true to user-42"
        assert "Release #1 of new_checkout — awaiting_approval(1)" in out, "skip ended Staging"
        assert "Release #1 of new_checkout — baking(1)" in out, "approve put the canary live"
        assert "Release #1 of new_checkout — paused(1)" in out
        assert "Release #1 of new_checkout — aborted" in out
        history = out.splitlines()[-7:]
        assert [line.split()[3] for line in history] == [
            "create", "trigger", "skip", "approve", "pause", "unpause", "abort",
        ]
        assert history[-1].endswith("(reason: error rate)")

        expected = {
            1: "Release #1 of new_checkout was aborted, which cannot be undone — start a new "
            "release to try again.",
            2: "--attr 'plan' is not of the form name=value.",
            3: "cannot use the database: file is not a database",
        }
        for exit_code, sentence in expected.items():
            command = readme_walkthrough.ERRORS[exit_code].split()
            assert error_sentence(
                *walkthrough.error_case(exit_code), exit_code, command
            ) == sentence
    finally:
        if walkthrough is not readme_walkthrough.running:
            walkthrough.close()
