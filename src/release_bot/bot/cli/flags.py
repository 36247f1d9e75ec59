"""`flag create|list|show`, and what a flag did and serves: `history` and `eval`."""

from __future__ import annotations

import json

import click

from release_bot.bot.cli import inputs
from release_bot.bot.cli.backend import releases
from release_bot.bot.cli.common import echo_json, friendly, now, pass_root
from release_bot.bot.cli.output import event_data, history_text
from release_bot.bot.runtime.compose import Root
from release_bot.core.models import FlagKind

PIPELINE = "give the name of a pipeline of the pipelines file"


@click.group()
def flag() -> None:
    """Feature gates and dynamic configs."""


@flag.command("create")
@click.argument("key")
@click.option("--kind", type=click.Choice([k.value for k in FlagKind]), required=True)
@click.option("--pipeline", required=True, help="A pipeline of the pipelines file.")
@click.option("--value", required=True, help="JSON: true/false for a gate, an object for a config.")
@click.option("--by", "actor", help="Who creates it (default: cli; through the API: the token).")
@pass_root
@friendly
def flag_create(root: Root, key: str, kind: str, pipeline: str, value: str,
                actor: str | None) -> None:
    """Create a flag at version 1."""
    parsed = (inputs.flag_key(key), FlagKind(kind), inputs.text("--pipeline", pipeline, PIPELINE),
              inputs.flag_value(value), None if actor is None else inputs.actor("--by", actor))
    created = releases(root, "--by", default="cli").create_flag(*parsed)
    click.echo(f"created {created['kind']} {created['key']} (pipeline {created['pipeline']})")


@flag.command("move")
@click.argument("key")
@click.option("--pipeline", required=True, help="Another pipeline of the pipelines file.")
@click.option("--by", "actor", required=True, help="Slack user id of who moves it.")
@pass_root
@friendly
def flag_move(root: Root, key: str, pipeline: str, actor: str) -> None:
    """Put a flag with no active release on another pipeline (its old one may be gone)."""
    parsed = (inputs.flag_key(key), inputs.text("--pipeline", pipeline, PIPELINE),
              inputs.actor("--by", actor))
    moved = root.service(with_pipelines=True).move_flag(*parsed, now())
    click.echo(f"moved {moved.key} to pipeline {moved.pipeline}")


@flag.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def flag_list(root: Root, as_json: bool) -> None:
    """List flags with their default value and active release."""
    rows = releases(root, "--by").flags()
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        active = f"release #{row['active_release']}" if row["active_release"] else "-"
        click.echo(
            f"{row['key']}\t{row['kind']}\t{row['pipeline']}\t"
            f"v{row['default_version']}={json.dumps(row['value'])}\t{active}"
        )


@flag.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def flag_show(root: Root, key: str, as_json: bool) -> None:
    """Show a flag's values per environment."""
    data = releases(root, "--by").flag(inputs.flag_key(key))
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['key']} ({data['kind']}, pipeline {data['pipeline']})")
    click.echo(f"  default: v{data['default_version']} = {json.dumps(data['value'])}")
    for env, base in data["environments"].items():
        click.echo(f"  {env}: v{base['version']} = {json.dumps(base['value'])}")
    if data["active_release"]:
        click.echo(f"  active release: #{data['active_release']}")


@click.command("history")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def history(root: Root, key: str, as_json: bool) -> None:
    """A flag's history, oldest first, refused and denied attempts included."""
    events = releases(root, "--by").history(inputs.flag_key(key))
    if as_json:
        echo_json([event_data(e) for e in events])
    else:
        click.echo(history_text(events))


@click.command("eval")
@click.argument("key")
@click.option("--env", "environment", required=True)
@click.option("--unit", "unit_id", required=True, help="The unit's id (a user id, say).")
@click.option("--attr", "attrs", multiple=True, help="A unit attribute, name=value (repeatable).")
@pass_root
@friendly
def evaluate(root: Root, key: str, environment: str, unit_id: str, attrs: tuple[str, ...]) -> None:
    """Print the JSON value KEY serves in an environment to a unit."""
    parsed = (
        inputs.flag_key(key),
        inputs.text("--env", environment, "give an environment of a pipeline, such as production"),
        inputs.text("--unit", unit_id, "give the unit's id, such as user-42",
                    limit=inputs.TEXT_LIMIT),
        inputs.attributes(attrs),
    )
    value = root.service().evaluate(*parsed)
    click.echo(json.dumps(value, sort_keys=True))
