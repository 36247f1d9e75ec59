"""`release start|show|list|act|tick`: releases of flags through their pipelines."""

from __future__ import annotations

import click

from release_bot.bot.cli import inputs
from release_bot.bot.cli.backend import Shown, releases
from release_bot.bot.cli.common import echo_json, friendly, now, pass_root
from release_bot.bot.cli.output import (
    release_data,
    release_row,
    release_summary,
    release_text,
    stuck_data,
    stuck_row,
)
from release_bot.bot.runtime.compose import Root
from release_bot.core.models import Action
from release_bot.core.sweeps import SweepFailure

ONCE = "give a key unique to this start, such as the CI run's id"
_ACTIONS = {a.value.replace("_", "-"): a for a in Action}


@click.group()
def release() -> None:
    """Releases of flags through their pipelines."""


@release.command("start")
@click.argument("key")
@click.option("--value", required=True, help="The new value, as JSON.")
@click.option("--by", "actor", help="Slack user id of who starts it (through the API: the token).")
@click.option("--idempotency-key", "once",
              help="Through the API: a retry with the same key gets the same release.")
@pass_root
@friendly
def release_start(root: Root, key: str, value: str, actor: str | None, once: str | None) -> None:
    """Start a release of KEY to a new value; prints the release id last."""
    key = inputs.flag_key(key)
    parsed = (inputs.flag_value(value), _who("--by", actor),
              None if once is None else inputs.text("--idempotency-key", once, ONCE, limit=255))
    started, versions = releases(root, "--by").start_release(key, *parsed)
    click.echo(release_text(started, versions, now()))
    click.echo(started.id)


def _who(option: str, actor: str | None) -> str | None:
    """Who acts, when given."""
    return None if actor is None else inputs.actor(option, actor)


@release.command("show")
@click.argument("release_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def release_show(root: Root, release_id: str, as_json: bool) -> None:
    """Show one release with its phases."""
    number = inputs.release_id(release_id)
    _print(releases(root, "--as").release(number), as_json)


def _print(shown: Shown, as_json: bool) -> None:
    """A release with its values: JSON, or a few readable lines."""
    release, versions = shown
    if as_json:
        echo_json(release_data(release, versions))
    else:
        click.echo(release_text(release, versions, now()))


@release.command("list")
@click.option("--active", is_flag=True, help="Only releases still running.")
@click.option("--stuck", is_flag=True,
              help="Only releases the timer sweep keeps failing on, with the error and next try.")
@click.option("--flag", "flag_key", help="Only releases of this flag.")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def release_list(root: Root, active: bool, stuck: bool, flag_key: str | None,
                 as_json: bool) -> None:
    """List releases, newest first (--stuck: next retry first)."""
    key = None if flag_key is None else inputs.flag_key(flag_key)
    if stuck:
        _list_stuck(root, key, as_json)
        return
    rows = releases(root, "--as").releases(active_only=active, flag_key=key)
    if as_json:
        echo_json([release_summary(r) for r in rows])
        return
    for row in rows:
        click.echo(release_row(row))


def _list_stuck(root: Root, flag_key: str | None, as_json: bool) -> None:
    """The releases the sweep keeps failing on (of one flag, if given)."""
    rows = [r for r in root.service().stuck() if flag_key in (None, r.flag_key)]
    if as_json:
        echo_json([stuck_data(row) for row in rows])
        return
    for row in rows:
        click.echo(stuck_row(row))
    if not rows:
        click.echo("No release is stuck.")


@release.command("act")
@click.argument("release_id", metavar="ID")
@click.argument("action", type=click.Choice(sorted(_ACTIONS)))
@click.option("--as", "actor", help="Slack user id of who acts (through the API: the token).")
@click.option("--reason", help="Why (required for abort).")
@click.option("--phase", help="Act only if the release is still at this phase (1-based).")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def release_act(
    root: Root,
    release_id: str,
    action: str,
    actor: str | None,
    reason: str | None,
    phase: str | None,
    as_json: bool,
) -> None:
    """Approve, pause, unpause, skip, abort or full-rollout a release."""
    number, who, why = (inputs.release_id(release_id), _who("--as", actor),
                        inputs.reason(reason))
    _print(releases(root, "--as").act(number, _ACTIONS[action], who, phase, why), as_json)


@release.command("tick")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def release_tick(root: Root, as_json: bool) -> None:
    """End every bake timer that is due now (what the scheduler does every second)."""
    advanced = root.service().advance_due(now(), on_stuck=_tell_stuck)
    if as_json:
        echo_json([{"id": r.id, "state": r.state.value, "phase": r.phase} for r in advanced])
        return
    for r in advanced:
        click.echo(f"#{r.id} {r.flag_key}: {r.describe_state()} ({r.current_phase.name})")
    click.echo(f"{len(advanced)} release(s) advanced")


def _tell_stuck(failure: SweepFailure, error: Exception) -> None:
    """Say on stderr which release `tick` could not move, and when the sweep tries again."""
    click.echo(
        f"warning: release #{failure.release_id} could not be advanced ({failure.error}); it is "
        f"tried again from {failure.retry_at:%Y-%m-%d %H:%M:%S} UTC, see "
        "'release-bot release list --stuck'.",
        err=True,
    )
