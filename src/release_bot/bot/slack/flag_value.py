"""A flag value typed in Slack, parsed once at the front."""

from __future__ import annotations

import json
from typing import Any

from release_bot.core.errors import InvalidInput

SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def parse_value(text: str) -> Any:
    """A value typed in Slack: JSON (`true`, `{"a": 1}`), with Slack's smart quotes undone."""
    try:
        return json.loads(text.strip().translate(SMART_QUOTES))
    except json.JSONDecodeError:
        raise InvalidInput(
            f"`{text}` is not JSON: a gate takes true or false, a config a JSON object."
        ) from None
