"""The core's sentences in Slack's words: mrkdwn with mentions, outside text escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from release_bot.bot.slack.views.texts import NAME_LIMIT, code, compact, principals, safe, who
from release_bot.core.sentences import Sentence, Words


class SlackWords(Words):
    """Renders slots as mrkdwn: names bold, keys and values as code, people as mentions."""

    def __init__(self, mentions: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.mentions = mentions or {}

    def text(self, value: Any) -> str:
        """Outside text, escaped."""
        return safe(str(value), 3000)

    def name(self, name: str) -> str:
        """A phase's or pipeline's name, bold."""
        return f"*{safe(name)}*"

    def flag(self, key: str) -> str:
        """A flag key as inline code."""
        return code(key, NAME_LIMIT)

    def person(self, actor: str) -> str:
        """A user id as a mention; anything else as escaped text."""
        return who(actor)

    def principals(self, names: Sequence[str]) -> str:
        """Groups as `<!subteam^…>` where their id is known, users as mentions."""
        return principals(list(names), self.mentions)

    def json(self, value: Any) -> str:
        """A value as inline code."""
        return code(compact(value))


def mrkdwn_of(sentence: Sentence, mentions: Mapping[str, str] | None = None) -> str:
    """A core sentence as Slack mrkdwn."""
    return SlackWords(mentions).render(sentence)
