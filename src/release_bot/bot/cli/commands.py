"""The `release-bot` command line: flags, releases, history, evaluation, pipelines, database."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.exc import DatabaseError

from release_bot.bot.cli.output import (
    event_data,
    flag_data,
    history_text,
    outbox_data,
    plain,
    release_data,
    release_row,
    release_text,
)
from release_bot.bot.runtime.pipelines_file import (
    PipelinesConfig,
    PipelinesFileError,
    load_pipelines,
)
from release_bot.bot.runtime.settings import Settings
from release_bot.bot.runtime.static_membership import StaticMembership
from release_bot.core.errors import DomainError
from release_bot.core.models import Action, Command, FlagKind
from release_bot.core.service import ReleaseService
from release_bot.storage.outbox import OutboxStatus
from release_bot.storage.unit_of_work import Database, open_database

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseUnusable(Exception):
    """The database is reachable but cannot be used as it is (exit 3)."""


@dataclass
class Context:
    """Lazily built settings, pipelines and database for one CLI invocation."""

    settings: Settings
    _database: Database | None = field(default=None, init=False)

    @cached_property
    def pipelines(self) -> PipelinesConfig:
        """The validated pipelines file."""
        return load_pipelines(self.settings.release_bot_config)

    def database(self, *, migrate: bool = True) -> Database:
        """The database; an empty or old SQLite schema is brought up to date on the way."""
        if self._database is None:
            self._database = open_database(self.settings.database_url)
            if migrate and not self._database.is_current():
                if self._database.engine.dialect.name != "sqlite":
                    raise DatabaseUnusable(
                        "The database schema is missing or old: run `release-bot db upgrade` first."
                    )
                self._database.upgrade()
        return self._database

    def service(self, *, with_pipelines: bool = False) -> ReleaseService:
        """The release service; the pipelines file is read only when the command needs it."""
        config = self.pipelines if with_pipelines else PipelinesConfig({}, {})
        return ReleaseService(
            self.database().uow, config.pipelines, StaticMembership(config.members)
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {plain(message)}", err=True)
    sys.exit(code)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn user-facing errors into one sentence on stderr and a non-zero exit."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            _fail(error.message)
        except PipelinesFileError as error:
            _fail(str(error), 2)
        except DatabaseUnusable as error:
            _fail(str(error), 3)
        except DatabaseError as error:
            # the driver's first line says what is wrong; the rest is SQL and hints
            reason = str(error.orig or error).strip().splitlines()[0]
            _fail(f"cannot use the database: {reason}", 3)
        except ValueError as error:
            _fail(str(error), 2)

    return wrapper


def _no_constant(name: str) -> Any:
    raise ValueError(f"--value may not contain {name}: it is not part of JSON.")


def _json_value(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"--value {text!r} is not valid JSON ({error.msg} at column {error.colno}): "
            "write it like true, false or '{\"limit\": 5}'."
        ) from None


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


pass_context = click.make_pass_decorator(Context)


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
        settings = Settings(**overrides)
    except ValidationError as error:
        problem = error.errors()[0]
        name = str(problem["loc"][0]).upper() if problem["loc"] else "a setting"
        _fail(f"{name} is not valid: {problem['msg']}.", 2)
    ctx.obj = Context(settings)
    ctx.call_on_close(lambda: ctx.obj._database and ctx.obj._database.dispose())


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_context
@friendly
def db_upgrade(context: Context) -> None:
    """Apply every Alembic migration to the database."""
    context.database(migrate=False).upgrade()
    click.echo("database is up to date")


@main.group()
def pipelines() -> None:
    """The pipelines file."""


@pipelines.command("check")
@pass_context
@friendly
def pipelines_check(context: Context) -> None:
    """Validate the pipelines file and summarise it."""
    config = context.pipelines
    for name, pipeline in config.pipelines.items():
        phases = " → ".join(p.name for p in pipeline.phases)
        click.echo(f"{name}: {phases}")
        unlisted = [a.value for a in Action if a not in pipeline.permissions]
        if unlisted:
            click.echo(f"  note: anyone may {', '.join(unlisted)} (not listed in permissions)")
    click.echo(f"{context.settings.release_bot_config}: OK, {len(config.pipelines)} pipeline(s)")


@main.group()
def flag() -> None:
    """Feature gates and dynamic configs."""


@flag.command("create")
@click.argument("key")
@click.option("--kind", type=click.Choice([k.value for k in FlagKind]), required=True)
@click.option("--pipeline", required=True, help="A pipeline of the pipelines file.")
@click.option("--value", required=True, help="JSON: true/false for a gate, an object for a config.")
@click.option("--by", "actor", default="cli", show_default=True, help="Who creates it.")
@pass_context
@friendly
def flag_create(
    context: Context, key: str, kind: str, pipeline: str, value: str, actor: str
) -> None:
    """Create a flag at version 1."""
    created = context.service(with_pipelines=True).create_flag(
        key, FlagKind(kind), pipeline, _json_value(value), actor, _now()
    )
    click.echo(f"created {created.kind.value} {created.key} (pipeline {created.pipeline})")


@flag.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_context
@friendly
def flag_list(context: Context, as_json: bool) -> None:
    """List flags with their default value and active release."""
    service = context.service()
    rows = [flag_data(*service.flag(f.key)) for f in service.flags()]
    if as_json:
        _echo_json(rows)
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
@pass_context
@friendly
def flag_show(context: Context, key: str, as_json: bool) -> None:
    """Show a flag's values per environment."""
    data = flag_data(*context.service().flag(key))
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['key']} ({data['kind']}, pipeline {data['pipeline']})")
    click.echo(f"  default: v{data['default_version']} = {json.dumps(data['value'])}")
    for env, base in data["environments"].items():
        click.echo(f"  {env}: v{base['version']} = {json.dumps(base['value'])}")
    if data["active_release"]:
        click.echo(f"  active release: #{data['active_release']}")


@main.group()
def release() -> None:
    """Releases of flags through their pipelines."""


@release.command("start")
@click.argument("key")
@click.option("--value", required=True, help="The new value, as JSON.")
@click.option("--by", "actor", required=True, help="Slack user id of who starts it.")
@pass_context
@friendly
def release_start(context: Context, key: str, value: str, actor: str) -> None:
    """Start a release of KEY to a new value; prints the release id last."""
    service = context.service(with_pipelines=True)
    started = service.start_release(key, _json_value(value), actor, _now())
    _, versions, _ = service.flag(key)
    click.echo(release_text(started, versions, _now()))
    click.echo(started.id)


@release.command("show")
@click.argument("release_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_context
@friendly
def release_show(context: Context, release_id: int, as_json: bool) -> None:
    """Show one release with its phases."""
    service = context.service()
    shown = service.release(release_id)
    _, versions, _ = service.flag(shown.flag_key)
    if as_json:
        _echo_json(release_data(shown, versions))
    else:
        click.echo(release_text(shown, versions, _now()))


@release.command("list")
@click.option("--active", is_flag=True, help="Only releases still running.")
@click.option("--flag", "flag_key", help="Only releases of this flag.")
@click.option("--json", "as_json", is_flag=True)
@pass_context
@friendly
def release_list(context: Context, active: bool, flag_key: str | None, as_json: bool) -> None:
    """List releases, newest first."""
    rows = context.service().releases(active_only=active, flag_key=flag_key)
    if as_json:
        _echo_json(
            [
                {
                    "id": r.id,
                    "flag": r.flag_key,
                    "state": r.state.value,
                    "phase": r.phase,
                    "phase_name": r.current_phase.name,
                }
                for r in rows
            ]
        )
        return
    for row in rows:
        click.echo(release_row(row))


_ACTIONS = {a.value.replace("_", "-"): a for a in Action}


@release.command("act")
@click.argument("release_id", type=int)
@click.argument("action", type=click.Choice(sorted(_ACTIONS)))
@click.option("--as", "actor", required=True, help="Slack user id of who acts.")
@click.option("--reason", help="Why (required for abort).")
@click.option("--phase", type=int, help="Act only if the release is still at this phase (1-based).")
@click.option("--json", "as_json", is_flag=True)
@pass_context
@friendly
def release_act(
    context: Context,
    release_id: int,
    action: str,
    actor: str,
    reason: str | None,
    phase: int | None,
    as_json: bool,
) -> None:
    """Approve, pause, unpause, skip, abort or full-rollout a release."""
    service = context.service(with_pipelines=True)
    if phase is not None:
        count = len(service.release(release_id).pipeline.phases)
        if not 1 <= phase <= count:
            raise ValueError(
                f"--phase {phase} is not a phase of release #{release_id}: "
                f"it has phases 1 to {count}."
            )
    command = Command(
        release_id,
        _ACTIONS[action],
        actor,
        phase=phase - 1 if phase is not None else None,
        reason=reason,
    )
    acted = service.act(command, _now())
    _, versions, _ = service.flag(acted.flag_key)
    if as_json:
        _echo_json(release_data(acted, versions))
    else:
        click.echo(release_text(acted, versions, _now()))


@release.command("tick")
@click.option("--json", "as_json", is_flag=True)
@pass_context
@friendly
def release_tick(context: Context, as_json: bool) -> None:
    """End every bake timer that is due now (what the scheduler does every second)."""
    advanced = context.service().advance_due(_now())
    if as_json:
        _echo_json([{"id": r.id, "state": r.state.value, "phase": r.phase} for r in advanced])
        return
    for r in advanced:
        click.echo(f"#{r.id} {r.flag_key}: {r.describe_state()} ({r.current_phase.name})")
    click.echo(f"{len(advanced)} release(s) advanced")


@main.command("history")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@pass_context
@friendly
def history(context: Context, key: str, as_json: bool) -> None:
    """A flag's history, oldest first, refused and denied attempts included."""
    events = context.service().history(key)
    if as_json:
        _echo_json([event_data(e) for e in events])
    else:
        click.echo(history_text(events))


def _attributes(pairs: tuple[str, ...]) -> dict[str, str]:
    attributes = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--attr '{pair}' is not of the form name=value.")
        attributes[name] = value
    return attributes


@main.command("eval")
@click.argument("key")
@click.option("--env", "environment", required=True)
@click.option("--unit", "unit_id", required=True, help="The unit's id (a user id, say).")
@click.option("--attr", "attrs", multiple=True, help="A unit attribute, name=value (repeatable).")
@pass_context
@friendly
def evaluate(
    context: Context, key: str, environment: str, unit_id: str, attrs: tuple[str, ...]
) -> None:
    """Print the JSON value KEY serves in an environment to a unit."""
    value = context.service().evaluate(key, environment, unit_id, _attributes(attrs))
    click.echo(json.dumps(value, sort_keys=True))


@main.command("serve")
@click.option("--port", type=int, help="Overrides PORT (default 3000).")
@pass_context
@friendly
def serve(context: Context, port: int | None) -> None:
    """Run the Slack app (HTTP, or Socket Mode when SLACK_APP_TOKEN is set) with its timers."""
    from release_bot.bot.runtime.serve import Runtime  # the Slack stack: loaded only to serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runtime = Runtime(context.settings, context.database(), context.pipelines)
    mode = (
        "Socket Mode"
        if context.settings.slack_app_token
        else f"HTTP on port {port or context.settings.port} (POST /slack/events, GET /healthz)"
    )
    click.echo(
        f"release-bot serving {len(context.pipelines.pipelines)} pipeline(s), {mode}", err=True
    )
    runtime.run(port or context.settings.port)


@main.group()
def outbox() -> None:
    """Notifications queued for Slack."""


@outbox.command("list")
@click.option("--failed", is_flag=True, help="Only rows that failed for good.")
@click.option("--pending", is_flag=True, help="Only rows still to deliver.")
@click.option("--json", "as_json", is_flag=True)
@pass_context
@friendly
def outbox_list(context: Context, failed: bool, pending: bool, as_json: bool) -> None:
    """List outbox rows, oldest first (what Slack was or will be told)."""
    status = OutboxStatus.FAILED if failed else OutboxStatus.PENDING if pending else None
    with context.database().uow() as uow:
        rows = uow.outbox.list(status)
    if as_json:
        _echo_json([outbox_data(row) for row in rows])
        return
    for row in rows:
        error = f"\t{row.last_error}" if row.last_error else ""
        click.echo(
            f"#{row.id}\trelease #{row.release_id}\t{row.kind.value}\t{row.status.value}"
            f"\t{row.attempts} attempt(s){error}"
        )
    click.echo(f"{len(rows)} row(s)")
