"""The README's command-line walk-through, run by the real `release-bot` in a fresh directory.

Each `release-bot` process spends most of a second importing, so the walk-through is started
in the background as soon as collection shows its test will run (see conftest.py) and checked
when that test's turn comes: it costs the tier almost nothing on a machine with two cores.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.cli_support import EXAMPLE, ROOT

RELEASE_BOT = Path(sys.executable).with_name("release-bot")
README = ROOT / "README.md"
# after the walk-through, the three kinds of error a script can tell apart (exit 1, 2, 3)
ERRORS = {
    1: "release-bot release act 1 unpause --as U0DEV",
    2: "release-bot eval new_checkout --env production --unit u1 --attr plan",
    3: "release-bot --database-url sqlite:///broken.db flag list",
}


def readme_commands() -> list[str]:
    """The lines of the README's `Try it from the command line` block."""
    section = README.read_text().split("## Try it from the command line", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "the README lost its command-line walk-through"
    return [line for line in block.group(1).splitlines() if line.strip()]


def environment() -> dict[str, str]:
    """This environment without the settings a developer may have exported, and the venv's
    `bin` first on PATH (what `. .venv/bin/activate` does)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RELEASE_BOT_CONFIG")}
    env["PATH"] = f"{RELEASE_BOT.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def script() -> str:
    """The walk-through as a bash script (minus the setup line: the venv exists), printing the
    release id it captured, then the error cases with their output kept in files."""
    lines = readme_commands()
    assert lines[0] == "scripts/setup && . .venv/bin/activate", lines[0]
    out = ["set -euo pipefail"]
    for line in lines[1:]:
        out.append(line)
        if line.startswith("id=$("):
            out.append('echo "id=$id"')
    out += ["set +e", "printf 'not a database\\n%.0s' {1..100} > broken.db"]
    for code, command in ERRORS.items():
        out.append(f"{command} > out.{code} 2> err.{code}; echo $? > code.{code}")
    return "\n".join(out) + "\n"


@dataclass
class Walkthrough:
    """A walk-through running in its own fresh directory."""

    workdir: Path
    process: subprocess.Popen[str]

    def result(self, timeout: float = 120) -> tuple[int, str, str]:
        """Wait for it: exit code, stdout, stderr."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stdout, stderr

    def error_case(self, code: int) -> tuple[int, str, str]:
        """What the error case expected to exit with `code` did: exit code, stdout, stderr."""

        def read(name: str) -> str:
            return (self.workdir / f"{name}.{code}").read_text()

        return int(read("code")), read("out"), read("err")

    def close(self) -> None:
        """Stop it if it still runs, and remove its directory."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start() -> Walkthrough:
    """Start the walk-through in a new directory holding only pipelines.example.yml."""
    workdir = Path(tempfile.mkdtemp(prefix="release-bot-readme-"))
    shutil.copyfile(EXAMPLE, workdir / "pipelines.example.yml")
    process = subprocess.Popen(
        ["bash", "-c", script()], cwd=workdir, env=environment(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    return Walkthrough(workdir, process)


# started by conftest.py's pytest_collection_finish when the test will run
running: Walkthrough | None = None
