"""Problems of the pipelines file as people read them: file:line, the place in words, and a
sentence saying what to write instead."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from release_bot.bot.runtime.pipelines_config import Place, Problem
from release_bot.bot.runtime.pipelines_yaml import YamlDocument
from release_bot.core.quoting import shown

MOST_PROBLEMS = 20


def _place(loc: Place, data: Any) -> str:
    """Where a place is, in words: `pipeline 'standard', phase 2 ('Canary'), bake`."""
    parts, node = [], data
    for i, key in enumerate(loc):
        if i == 1 and loc[0] == "pipelines":
            parts.append(f"pipeline {_got(key)}")
        elif isinstance(key, int) and i >= 1 and loc[i - 1] in ("phases", "checks"):
            name = (
                node[key].get("name")
                if isinstance(node, list) and key < len(node) and isinstance(node[key], dict)
                else None
            )
            noun = "phase" if loc[i - 1] == "phases" else "check"
            parts.append(f"{noun} {key + 1}" + (f" ('{shown(name)}')" if isinstance(name, str)
                                                else ""))
        elif isinstance(key, int) and i >= 1 and loc[i - 1] == "webhooks":
            parts.append(f"webhook {key + 1}")
        elif not (key in ("pipelines", "phases", "checks", "webhooks") and i + 1 < len(loc)):
            parts.append(shown(key) if isinstance(key, str) else _got(key))
        node = node[key] if isinstance(node, dict | list) and _has(node, key) else None
    return ", ".join(parts) or "top level"


def _has(node: dict[Any, Any] | list[Any], key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(key, int) and 0 <= key < len(node)


def _got(value: Any) -> str:
    """A value as the file wrote it, for a message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return shown(repr(value), 30)
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a mapping"
    return f"'{shown(str(value), 30)}'"


# what a value of the wrong kind should have been, and how to write it, by pydantic's error type
_KINDS = {
    "string_type": ("text", "write text, quoted if it looks like a number, a date or true/false"),
    "int_type": ("a whole number", "write one such as 2"),
    "float_type": ("a number", "write one such as 10"),
    "finite_number": ("a number", "write one such as 10"),
    "bool_type": ("true or false", "write true or false"),
    "list_type": ("a list", "write one such as [a, b]"),
    "dict_type": ("a mapping", "write key: value lines"),
    "model_type": ("a mapping", "write key: value lines"),
}


def _message(item: ErrorDetails, settings: Sequence[str]) -> str:
    """One pydantic error as a sentence saying what would be right."""
    kind, ctx = item["type"], item.get("ctx", {})
    if kind in _KINDS:
        noun, how = _KINDS[kind]
        return f"{_got(item['input'])} is not {noun}: {how}"
    if kind == "extra_forbidden":
        guess = difflib.get_close_matches(str(item["loc"][-1]), settings, 1)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        return f"not a known setting here (misspelt or misplaced?){hint}"
    if kind == "missing":
        return "is required but missing"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']:g} (got {_got(item['input'])})"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']:g} (got {_got(item['input'])})"
    if kind == "too_short":
        return "must list at least one"
    if kind == "literal_error":
        return f"{_got(item['input'])} is not known here: write {ctx['expected']}"
    return str(item["msg"]).removeprefix("Value error, ")


def validation_problems(error: ValidationError, settings: Sequence[str]) -> list[Problem]:
    """Each pydantic error as a place in the file and a sentence; `settings` are the names a
    misspelt one may have meant."""
    problems = []
    for item in error.errors():
        loc = tuple(part for part in item["loc"] if part != "[key]")
        problems.append((loc, _message(item, settings)))
    return problems


def report(problems: list[Problem], document: YamlDocument, source: str) -> str:
    """One line per problem, in file order, with file:line and place; the first few only."""
    lines = sorted(
        ((document.line(loc), f"{_place(loc, document.data)}: {message}")
         for loc, message in problems),
        key=lambda pair: pair[0],
    )
    shown_lines = [f"{source}:{line}: {text}" for line, text in lines[:MOST_PROBLEMS]]
    if len(lines) > MOST_PROBLEMS:
        shown_lines.append(f"{source}: … and {len(lines) - MOST_PROBLEMS} more problems")
    return "\n".join(shown_lines)
