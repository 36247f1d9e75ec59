"""What the commands share: the composition root, errors as exit codes, JSON, the clock."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from sqlalchemy.exc import DatabaseError

from release_bot.bot.runtime.compose import DatabaseUnusable, Root
from release_bot.bot.runtime.pipelines_config import PipelinesFileError
from release_bot.core.errors import DomainError

P = ParamSpec("P")
R = TypeVar("R")

pass_root = click.make_pass_decorator(Root)


def now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one plain sentence on stderr and exit with code."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn user-facing errors into one sentence on stderr and a non-zero exit."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            fail(error.message)
        except PipelinesFileError as error:
            fail(str(error), 2)
        except DatabaseUnusable as error:
            fail(str(error), 3)
        except DatabaseError as error:
            # the driver's first line says what is wrong; the rest is SQL and hints
            reason = str(error.orig or error).strip().splitlines()[0]
            fail(f"cannot use the database: {reason}", 3)
        except ValueError as error:
            fail(str(error), 2)

    return wrapper


def _no_constant(name: str) -> Any:
    raise ValueError(f"--value may not contain {name}: it is not part of JSON.")


def json_value(text: str) -> Any:
    """The JSON value of a --value option; ValueError (exit 2) saying how to write it."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"--value {text!r} is not valid JSON ({error.msg} at column {error.colno}): "
            "write it like true, false or '{\"limit\": 5}'."
        ) from None


def echo_json(data: Any) -> None:
    """Print data as indented JSON with sorted keys."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
