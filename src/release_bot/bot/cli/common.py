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

from release_bot.bot.cli.inputs import unprintable
from release_bot.bot.runtime.compose import DatabaseUnusable, Root
from release_bot.bot.runtime.pipelines_config import PipelinesFileError
from release_bot.core.errors import DomainError, Kind

P = ParamSpec("P")
R = TypeVar("R")

pass_root = click.make_pass_decorator(Root)

# Exit codes: 0 done · 1 refused, denied or unknown · 2 bad input or a broken pipelines file ·
# 3 database unusable. Refusals go by kind; a value the flag already has (rule ValueChanges) is
# of kind VALUE, so like a value of the wrong kind it is input to correct: 2.
BAD_INPUT = frozenset({Kind.VALUE, Kind.INPUT})


def now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one plain sentence on stderr and exit with code."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def one_line(message: str) -> str:
    """A sentence quoting outside text, with line breaks and control characters escaped."""
    return "".join(ch.encode("unicode_escape").decode() if unprintable(ch) else ch
                   for ch in message)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn user-facing errors into one sentence on stderr and a non-zero exit."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            fail(one_line(error.message), 2 if error.kind in BAD_INPUT else 1)
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
        except click.UsageError:
            raise  # told in one line by the command line's group, like click's own
        except Exception as error:  # noqa: BLE001 — a person gets a sentence, not a traceback
            detail = (str(error).strip().splitlines() or [""])[0][:200]
            fail(one_line(f"release-bot failed unexpectedly ({type(error).__name__}: {detail}); "
                          "please report it with the command you ran."), 1)

    return wrapper


def echo_json(data: Any) -> None:
    """Print data as indented JSON with sorted keys."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
