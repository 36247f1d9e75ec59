"""Commands for operators: `db upgrade`, `pipelines check`, `serve` and `outbox list`."""

from __future__ import annotations

import logging
import os

import click

from release_bot.bot.cli.common import echo_json, friendly, pass_root
from release_bot.bot.cli.output import outbox_data, outbox_what
from release_bot.bot.runtime.compose import NO_PROMETHEUS, Root
from release_bot.core.models import Action, Pipeline
from release_bot.core.policy import allowed
from release_bot.storage.outbox import OutboxStatus


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_root
@friendly
def db_upgrade(root: Root) -> None:
    """Apply every Alembic migration to the database."""
    root.database(migrate=False).upgrade()
    click.echo("database is up to date")


@click.group()
def pipelines() -> None:
    """The pipelines file."""


@pipelines.command("check")
@pass_root
@friendly
def pipelines_check(root: Root) -> None:
    """Validate the pipelines file and summarise it."""
    config = root.pipelines
    for name, pipeline in config.pipelines.items():
        phases = " → ".join(
            p.name + (f" (checks: {', '.join(c.name for c in p.checks)})" if p.checks else "")
            for p in pipeline.phases)
        click.echo(f"{name}: {phases}")
        for note in _open_to_anyone(pipeline):
            click.echo(f"  note: anyone may {note}")
        for webhook in pipeline.webhooks:
            click.echo(f"  webhook: {webhook.url} (signed with the secret in {webhook.secret_env})")
            if not os.environ.get(webhook.secret_env):
                click.echo(f"  note: {webhook.secret_env} is not set here; serve will not start "
                           "without it")
    if config.uses_checks and root.settings.prometheus_url is None:
        click.echo(f"  note: {NO_PROMETHEUS}")
    click.echo(f"{root.settings.release_bot_config}: OK, {len(config.pipelines)} pipeline(s)")


def _open_to_anyone(pipeline: Pipeline) -> list[str]:
    """What anyone may do in the pipeline: actions it does not list, gates nobody is named for."""
    notes = []
    gates = [
        f"phase {index + 1} ('{phase.name}')"
        for index, phase in enumerate(pipeline.phases)
        if phase.approval is not None and allowed(pipeline, Action.APPROVE, index) is None
    ]
    if gates:
        notes.append(f"approve {', '.join(gates)} (no approval groups, and approve is not "
                     "listed in permissions)")
    others = [a for a in Action if a is not Action.APPROVE]
    unlisted = [a.value for a in others if allowed(pipeline, a, 0) is None]
    if unlisted:
        notes.append(f"{', '.join(unlisted)} (not listed in permissions)")
    return notes


@click.command("serve")
@click.option("--port", type=int, help="Overrides PORT (default 3000).")
@pass_root
@friendly
def serve(root: Root, port: int | None) -> None:
    """Serve the timers and every front on PORT: Slack (HTTP, or Socket Mode when
    SLACK_APP_TOKEN is set) once its credentials are set, the API under /api/v1, and
    GET /healthz."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runtime = root.runtime()
    settings = root.settings
    click.echo(
        f"release-bot serving {len(root.pipelines.pipelines)} pipeline(s) on port "
        f"{port or settings.port} ({runtime.mode}, OFREP at /environments/ENV/ofrep/v1, flagd "
        f"at /environments/ENV/flagd.json, the API at /api/v1, GET /healthz)", err=True,
    )
    runtime.run(port or settings.port)


@click.group()
def outbox() -> None:
    """Notifications queued for Slack and events queued for webhooks."""


@outbox.command("list")
@click.option("--failed", is_flag=True, help="Only rows that failed for good.")
@click.option("--pending", is_flag=True, help="Only rows still to deliver.")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def outbox_list(root: Root, failed: bool, pending: bool, as_json: bool) -> None:
    """List outbox rows, oldest first (what Slack and webhooks were or will be told)."""
    status = OutboxStatus.FAILED if failed else OutboxStatus.PENDING if pending else None
    with root.database().uow() as uow:
        rows = uow.outbox.list(status)
    if as_json:
        echo_json([outbox_data(row) for row in rows])
        return
    for row in rows:
        error = f"\t{row.last_error}" if row.last_error else ""
        click.echo(
            f"#{row.id}\trelease #{row.release_id}\t{outbox_what(row)}\t{row.status.value}"
            f"\t{row.attempts} attempt(s){error}"
        )
    click.echo(f"{len(rows)} row(s)")
