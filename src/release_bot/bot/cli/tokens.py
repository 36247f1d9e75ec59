"""`token create|list|revoke`: API tokens for deploy pipelines."""

from __future__ import annotations

import secrets
from datetime import datetime

import click

from release_bot.bot.cli import inputs
from release_bot.bot.cli.common import echo_json, friendly, now, pass_root
from release_bot.bot.runtime.compose import Root
from release_bot.core.models import Scope, Token
from release_bot.core.tokens import TokenService, check_token_name

SECRET_PREFIX = "rbt_"  # tells a leaked secret apart in logs and secret scanners


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _scopes(token: Token) -> list[str]:
    return sorted(s.value for s in token.scopes)


def token_data(token: Token) -> dict[str, object]:
    """A token as JSON-ready data (never its secret)."""
    return {"name": token.name, "principal": token.principal,
            "scopes": _scopes(token), "created_at": _iso(token.created_at),
            "created_by": token.created_by, "last_used_at": _iso(token.last_used_at),
            "revoked_at": _iso(token.revoked_at)}


@click.group()
def token() -> None:
    """API tokens: each acts as token:NAME within its scopes."""


@token.command("create")
@click.argument("name")
@click.option("--can", "scopes", multiple=True, required=True,
              type=click.Choice([s.value for s in Scope]),
              help="What it may do: read, start (releases, flags) or act (repeatable).")
@click.option("--by", "actor", default="cli", show_default=True, help="Who creates it.")
@pass_root
@friendly
def token_create(root: Root, name: str, scopes: tuple[str, ...], actor: str) -> None:
    """Create a token; its secret is printed once, on the last line, and never kept."""
    check_token_name(name)
    who = inputs.actor("--by", actor)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    created = TokenService(root.database().uow).create(
        name, [Scope(s) for s in scopes], secret, who, now())
    click.echo(f"created token {created.name} ({created.principal}) that can "
               f"{', '.join(_scopes(created))}; its secret, shown once:",
               err=True)
    click.echo(secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_root
@friendly
def token_list(root: Root, as_json: bool) -> None:
    """Tokens with their scopes, creation and last use (revoked ones too)."""
    database = root.database()
    found = TokenService(database.uow, database.reads).tokens()
    if as_json:
        echo_json([token_data(t) for t in found])
        return
    for t in found:
        used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        revoked = f"\trevoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else ""
        click.echo(f"{t.name}\t{','.join(_scopes(t))}\tcreated {t.created_at:%Y-%m-%d %H:%M} "
                   f"by {t.created_by}\t{used}{revoked}")
    click.echo(f"{len(found)} token(s)")


@token.command("revoke")
@click.argument("name")
@pass_root
@friendly
def token_revoke(root: Root, name: str) -> None:
    """End a token: its next request is refused."""
    revoked = TokenService(root.database().uow).revoke(name, now())
    click.echo(f"revoked token {revoked.name}")
