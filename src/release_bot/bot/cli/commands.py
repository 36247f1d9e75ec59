"""The `release-bot` command line: the top-level group, its options and its commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from release_bot.bot.cli import flags, operations, releases
from release_bot.bot.cli.common import fail
from release_bot.bot.runtime.compose import Root
from release_bot.bot.runtime.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", help="Overrides DATABASE_URL (default: sqlite:///release-bot.db).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Overrides RELEASE_BOT_CONFIG (default: ./pipelines.yml).",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None, config_path: Path | None) -> None:
    """Run feature-gate and dynamic-config release pipelines."""
    overrides: dict[str, Any] = {}
    if database_url:
        overrides["database_url"] = database_url
    if config_path:
        overrides["release_bot_config"] = config_path
    try:
        settings = Settings.from_environment(**overrides)
    except ValueError as error:
        fail(str(error), 2)
    root = ctx.obj = Root(settings)
    ctx.call_on_close(root.close)


for command in (
    flags.flag,
    flags.history,
    flags.evaluate,
    releases.release,
    operations.db,
    operations.pipelines,
    operations.serve,
    operations.outbox,
):
    main.add_command(command)
