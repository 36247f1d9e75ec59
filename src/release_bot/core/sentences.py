"""Sentences as data: a template with typed slots, rendered by each front in its own markup.

The core never writes markup. A slot names its kind after a colon — `{phase:name}`,
`{flag:flag}`, `{who:principals}`, `{actor:person}`, `{value:json}`, `{left:duration}` — and
a front renders each kind its own way: the CLI as plain words, Slack as escaped mrkdwn with
mentions. Parameters are plain JSON data, so a sentence can travel through the outbox.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from release_bot.core.durations import format_duration


def join_words(items: Sequence[str], conjunction: str = "or") -> str:
    """`a`, `a or b`, `a, b or c`."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


class Words(string.Formatter):
    """Renders a sentence's slots as plain text; a front subclasses it for its own markup."""

    def format_field(self, value: Any, format_spec: str) -> str:
        """Render one slot by its kind (the part after the colon)."""
        render = getattr(self, format_spec or "text", None)
        if render is None:
            raise ValueError(f"unknown slot kind {format_spec!r}")
        return str(render(value))

    def render(self, sentence: Sentence) -> str:
        """The whole sentence in this front's words."""
        return self.vformat(sentence.template, (), dict(sentence.params))

    def text(self, value: Any) -> str:
        """Outside text as it is."""
        return str(value)

    def name(self, name: str) -> str:
        """A phase's or a pipeline's name."""
        return name

    def flag(self, key: str) -> str:
        """A flag's key."""
        return key

    def person(self, actor: str) -> str:
        """Who acted: a user id, a token or the bot itself."""
        return actor

    def principals(self, names: Sequence[str]) -> str:
        """Groups and users joined with `or`; `anyone` when there are none."""
        return join_words([self.person(n) for n in names]) if names else "anyone"

    def json(self, value: Any) -> str:
        """A flag value as compact JSON."""
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)

    def duration(self, seconds: float) -> str:
        """A number of seconds the way durations are written (`1h30m`)."""
        return format_duration(timedelta(seconds=seconds))


PLAIN = Words()


@dataclass(frozen=True)
class Sentence:
    """A template such as `approved phase {phase:name}` and the data for its slots."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def plain(self) -> str:
        """The sentence in plain words (CLI, history, logs)."""
        return PLAIN.render(self)

    def data(self) -> dict[str, Any]:
        """The sentence as JSON-ready data."""
        return {"template": self.template, "params": dict(self.params)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Sentence:
        """A sentence back from `data()`."""
        return cls(str(data["template"]), dict(data.get("params") or {}))


def say(template: str, **params: Any) -> Sentence:
    """A sentence from a template and its slots' values."""
    return Sentence(template, params)
