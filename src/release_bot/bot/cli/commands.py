"""The `release-bot` command line: the top-level group, its options and its commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from click.exceptions import NoArgsIsHelpError

from release_bot.bot.cli import flags, operations, releases, tokens
from release_bot.bot.cli.common import fail, one_line
from release_bot.bot.runtime.compose import Root
from release_bot.bot.runtime.settings import Settings
from release_bot.core.quoting import shown


@contextmanager
def _usage_in_one_line() -> Iterator[None]:
    """A usage mistake (a missing option, an unknown choice) is one line on stderr, exit 2,
    like every other error; a bare group still shows its help."""
    try:
        yield
    except NoArgsIsHelpError:
        raise
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else "release-bot"
        problem = one_line(shown(error.format_message().rstrip("."), 300))
        fail(f"{problem} — see {command} --help.", error.exit_code)


class _Main(click.Group):
    """The top-level group, with usage mistakes told in one line."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """Parse the global options."""
        with _usage_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command line, subcommands' parsing included."""
        with _usage_in_one_line():
            return super().invoke(ctx)


@click.group("release-bot", cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
    tokens.token,
):
    main.add_command(command)
