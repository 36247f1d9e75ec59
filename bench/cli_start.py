"""Start-up of the CLI: wall time of `release-bot eval`, `release show` and `history` processes.

Against a floor: a `python -c` script that imports click and SQLAlchemy and runs one query on
the same SQLite database, which any Python CLI over this database pays. Runs are interleaved
(one of each per round, in turn) so that a busy machine slows all of them alike; the CPU time
of each process is printed too, as it varies less than wall time on a shared machine. The
processes may write bytecode, as an installed package has it: a warm-up round goes first.
Target: each command's median wall time at most 1.5 × the floor's.

    .venv/bin/python -m bench.cli_start [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import fresh_database, pipeline
from release_bot.bot.runtime.compose import build_service
from release_bot.bot.runtime.pipelines_config import PipelinesConfig
from release_bot.core.models import FlagKind

KEY = "bench_flag"
FLOOR = """\
import sys
import click
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.connect() as connection:
    query = sa.text("SELECT state FROM releases WHERE id = :id")
    click.echo(connection.execute(query, {"id": int(sys.argv[2])}).scalar_one())
"""


def release_bot() -> list[str]:
    """The console script next to this interpreter (as a user runs it), else the same via -c."""
    script = Path(sys.executable).with_name("release-bot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from release_bot.bot.cli.commands import main; "
            "sys.exit(main())"]


def environment() -> dict[str, str]:
    """This environment without release-bot's settings, allowed to write bytecode."""
    hidden = ("DATABASE_URL", "RELEASE_BOT_CONFIG", "PYTHONDONTWRITEBYTECODE")
    return {key: value for key, value in os.environ.items() if key not in hidden}


def _children_cpu() -> float:
    """CPU seconds (user and system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command: list[str], workdir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of the command; RuntimeError if it fails."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=environment(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
    return wall, _children_cpu() - cpu


def main() -> None:
    """Prepare a database with a flag and an active release; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with (
        fresh_database("sqlite", "bench_cli_start") as database,
        tempfile.TemporaryDirectory() as folder,
    ):
        bench = pipeline()
        service = build_service(database, PipelinesConfig({bench.name: bench}, {}))
        now = datetime.now(UTC)
        service.create_flag(KEY, FlagKind.GATE, bench.name, False, "U0BENCH", now)
        release_id = str(service.start_release(KEY, True, "U0BENCH", now).id)
        url = database.engine.url.render_as_string(hide_password=False)
        cli = [*release_bot(), "--database-url", url]
        commands = {
            "floor": [sys.executable, "-c", FLOOR, url, release_id],
            "eval": [*cli, "eval", KEY, "--env", "staging", "--unit", "user-1"],
            "release show": [*cli, "release", "show", release_id],
            "history": [*cli, "history", KEY],
        }
        workdir = Path(folder)  # no .env of the checkout is read
        for command in commands.values():
            run_once(command, workdir)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(run_once(command, workdir))
    wall = {name: statistics.median(w for w, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in samples.items()}
    print(f"SQLite, median of {runs} runs each")
    print(f"{'process':<14} {'wall s':>7} {'× floor':>8} {'cpu s':>7} {'× floor':>8}")
    for name in samples:
        print(
            f"{name:<14} {wall[name]:>7.3f} {wall[name] / wall['floor']:>8.2f}"
            f" {cpu[name]:>7.3f} {cpu[name] / cpu['floor']:>8.2f}"
        )


if __name__ == "__main__":
    main()
