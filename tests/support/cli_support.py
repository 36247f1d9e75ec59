"""Drive `release-bot` in-process with click's CliRunner, and check what a person sees."""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from release_bot.bot.cli.commands import main
from release_bot.core.evaluation import BUCKETS, bucket

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "pipelines.example.yml"

# the people of pipelines.example.yml's `members:` map
DEV = "U0DEV"  # @engineering only: starts releases, pauses, aborts
MGR = "U0MGR"  # @release-managers (and @engineering): skip, full roll out
AAA, BBB, CCC = "U0AAA", "U0BBB", "U0CCC"  # @release-approvers (and @engineering)
OUTSIDER = "U0NOBODY"

# what a user mistake must never show
_INTERNALS = re.compile(r"Traceback|File \"|sqlalchemy|psycopg\.|pydantic|<@|\*|`")

# a pipeline whose bakes end in a second, for `release tick`
QUICK_PIPELINES = """\
members:
  "@approvers": [U0AAA, U0BBB]
pipelines:
  quick:
    phases:
      - name: Staging
        environments: [staging]
        bake: 1s
      - name: Production
        environments: [production]
        approval: {groups: ["@approvers"], required: 1}
        bake: 1s
  single:
    phases:
      - name: Everywhere
        environments: [staging, production]
        bake: 1s
"""


def unit_inside(key: str, percentage: float) -> str:
    """A unit id whose bucket for flag `key` is inside the first `percentage` percent."""
    return _unit(key, lambda b: b < percentage * BUCKETS / 100)


def unit_outside(key: str, percentage: float) -> str:
    """A unit id whose bucket for flag `key` is outside the first `percentage` percent."""
    return _unit(key, lambda b: b >= percentage * BUCKETS / 100)


def _unit(key: str, wanted: Any) -> str:
    return next(f"user-{n}" for n in range(10_000) if wanted(bucket(key, f"user-{n}")))


class Cli:
    """`release-bot --database-url URL --config FILE …`, run in-process."""

    def __init__(self, database_url: str | None, config: Path | None) -> None:
        self.database_url = database_url
        self.config = config
        self.runner = CliRunner()
        self.flag_of: dict[int, str] = {}  # release id → flag key, of the releases started

    def invoke(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        """Run one command line; any exception other than a clean exit fails the test."""
        options: list[str] = []
        if self.database_url is not None:
            options += ["--database-url", self.database_url]
        if self.config is not None:
            options += ["--config", str(self.config)]
        result = self.runner.invoke(main, [*options, *args], env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            shown = "".join(traceback.format_exception(result.exception))
            raise AssertionError(f"release-bot {' '.join(args)} crashed:\n{shown}")
        return result

    def ok(self, *args: str, env: Mapping[str, str | None] | None = None) -> str:
        """Run a command that must succeed; its stdout."""
        result = self.invoke(*args, env=env)
        assert result.exit_code == 0, (
            f"release-bot {' '.join(args)} exited {result.exit_code}: {result.stderr}"
        )
        return result.stdout

    def json(self, *args: str) -> Any:
        """Run a command with --json; its parsed stdout."""
        return json.loads(self.ok(*args, "--json"))

    def fail(self, *args: str, code: int = 1, env: Mapping[str, str | None] | None = None) -> str:
        """Run a command that must be refused; the one sentence it printed, without `error: `."""
        result = self.invoke(*args, env=env)
        return error_sentence(result.exit_code, result.stdout, result.stderr, code, args)

    def refused_act(
        self, release_id: int, action: str, actor: str, *extra: str, outcome: str = "refused",
        code: int = 1,
    ) -> str:
        """Act and expect a refusal (or denial), kept in the flag's history as a move from the
        release's state to the same state; the sentence it printed. (Callers compare
        `release show` around a run of refusals: each costs a few database round trips.)"""
        message = self.fail(
            "release", "act", str(release_id), action, "--as", actor, *extra, code=code
        )
        assert sentence(message), message
        last = self.history(self.flag_of[release_id])[-1]
        kept = (last["release"], last["actor"], last["action"], last["outcome"], last["message"])
        assert kept == (release_id, actor, action.replace("-", "_"), outcome, message), kept
        assert last["from_state"] == last["to_state"]
        return message

    # --- the commands of the README ---------------------------------------------------------

    def start(self, key: str, value: str, by: str) -> int:
        """`release start`; the release id (the last line of stdout)."""
        out = self.ok("release", "start", key, "--value", value, "--by", by)
        release_id = int(out.splitlines()[-1])
        self.flag_of[release_id] = key
        return release_id

    def act(self, release_id: int, action: str, actor: str, *extra: str) -> str:
        """`release act ID ACTION --as ACTOR …`; its stdout."""
        return self.ok("release", "act", str(release_id), action, "--as", actor, *extra)

    def step(self, release_id: int, action: str, actor: str, *extra: str) -> str:
        """`release act …`; the state it reports on its first line, such as `baking(1)`."""
        first = self.act(release_id, action, actor, *extra).splitlines()[0]
        found = re.fullmatch(rf"Release #{release_id} of \S+ — (\S+) \(pipeline \S+\)", first)
        assert found, first
        return found.group(1)

    def show(self, release_id: int) -> dict[str, Any]:
        """`release show ID --json`."""
        data: dict[str, Any] = self.json("release", "show", str(release_id))
        return data

    def state(self, release_id: int) -> tuple[str, int]:
        """The release's state and current phase index."""
        shown = self.show(release_id)
        return shown["state"], shown["phase"]

    def eval(self, key: str, env: str, unit: str, *attrs: str) -> Any:
        """`eval KEY --env ENV --unit UNIT [--attr k=v …]`: the JSON value served."""
        args = ["eval", key, "--env", env, "--unit", unit]
        for attr in attrs:
            args += ["--attr", attr]
        return json.loads(self.ok(*args))

    def history(self, key: str) -> list[dict[str, Any]]:
        """`history KEY --json`."""
        events: list[dict[str, Any]] = self.json("history", key)
        return events


def error_sentence(
    exit_code: int, stdout: str, stderr: str, code: int, args: tuple[str, ...] | list[str]
) -> str:
    """Check a refusal's shape — the exit code, nothing on stdout, one plain sentence on stderr
    — and return that sentence without its `error: ` prefix."""
    command = " ".join(args)
    assert exit_code == code, f"release-bot {command} exited {exit_code}, not {code}: {stderr}"
    assert stdout == "", f"release-bot {command} printed to stdout when refused: {stdout}"
    lines = stderr.splitlines()
    assert len(lines) == 1, f"release-bot {command} printed more than one line:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    assert not _INTERNALS.search(lines[0]), f"internals or markup leaked: {lines[0]}"
    return lines[0].removeprefix("error: ")


def sentence(text: str) -> bool:
    """True for one sentence on one line: no leading space, a full stop last."""
    return bool(re.fullmatch(r"\S[^\n]*[.]", text))
