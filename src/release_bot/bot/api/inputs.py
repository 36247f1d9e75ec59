"""Request bodies, paths and queries, parsed once with the same limits as the CLI's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release_bot.bot.cli import inputs as cli
from release_bot.core.errors import DomainError, InvalidInput
from release_bot.core.models import Action, FlagKind
from release_bot.core.quoting import shown
from release_bot.core.sentences import say
from release_bot.core.service import MAX_ID
from release_bot.core.values import parse_value

KEY_LIMIT = 255  # Idempotency-Key, as Stripe and the IETF draft allow
HISTORY_PAGE = 100
HISTORY_PAGE_MAX = 500


@dataclass(frozen=True)
class ActionRequest:
    """`POST /releases/{id}/actions`."""

    action: Action
    phase: int
    reason: str | None


def body(raw: bytes, fields: Mapping[str, bool]) -> dict[str, Any]:
    """A JSON object with only the given fields (name → required), within the value limits."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The body is not UTF-8: send a JSON object.") from None
    try:
        parsed = parse_value(text)
    except DomainError as error:
        raise InvalidInput(f"The body is not usable JSON: {error.message}") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("The body must be a JSON object.")
    unknown = sorted(set(parsed) - set(fields))
    if unknown:
        raise InvalidInput(say("The body has a field {name} this request does not take "
                               "(it takes {known}).", name=shown(unknown[0]),
                               known=", ".join(fields)))
    missing = [name for name, required in fields.items() if required and name not in parsed]
    if missing:
        raise InvalidInput(say("The body needs the field {name}.", name=missing[0]))
    return parsed


def _text(data: Mapping[str, Any], name: str, hint: str, limit: int = cli.NAME_LIMIT) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise InvalidInput(say("{name} must be a string: {hint}.", name=name, hint=hint))
    return cli.text(name, value, hint, limit=limit)


def new_flag(raw: bytes) -> tuple[str, FlagKind, str, Any]:
    """`POST /flags`: key, kind, pipeline and value."""
    data = body(raw, {"key": True, "kind": True, "pipeline": True, "value": True})
    key = flag_key(_text(data, "key", "a flag key such as new_checkout"))
    kinds = {k.value: k for k in FlagKind}
    if data["kind"] not in kinds:
        raise InvalidInput("kind must be \"gate\" or \"config\".")
    pipeline = _text(data, "pipeline", "the name of a pipeline of the pipelines file")
    return key, kinds[data["kind"]], pipeline, data["value"]


def new_release(raw: bytes) -> Any:
    """`POST /flags/{key}/releases`: the value."""
    return body(raw, {"value": True})["value"]


def action(raw: bytes) -> ActionRequest:
    """`POST /releases/{id}/actions`: action, phase (required) and reason."""
    data = body(raw, {"action": True, "phase": True, "reason": False})
    actions = {a.value: a for a in Action}
    if data["action"] not in actions:
        raise InvalidInput(say("action must be one of {known}.", known=", ".join(actions)))
    phase = data["phase"]
    if not isinstance(phase, int) or isinstance(phase, bool) or not 0 <= phase <= MAX_ID:
        raise InvalidInput("phase must be the release's phase as you last saw it (its \"phase\" "
                           "field, a whole number from 0).")
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be a string: say why in a sentence.")
    if reason is not None and reason.strip():
        why = cli.text("reason", reason, "say why in a sentence", limit=cli.REASON_LIMIT)
        return ActionRequest(actions[data["action"]], phase, why)
    return ActionRequest(actions[data["action"]], phase, None)


def flag_key(value: str) -> str:
    """A flag key from a path or a query."""
    return cli.flag_key(value)


def release_id(value: str) -> int:
    """A release id from a path."""
    return cli.release_id(value)


def idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header: 1 to 255 printable ASCII characters without spaces."""
    if value is None:
        return None
    if not 0 < len(value) <= KEY_LIMIT or not all("!" <= ch <= "~" for ch in value):
        raise InvalidInput("Idempotency-Key must be 1 to 255 printable ASCII characters without "
                           "spaces, such as a UUID.")
    return value


def active(value: str | None) -> bool:
    """`?active=true|false`."""
    if value not in (None, "true", "false"):
        raise InvalidInput("active must be true or false.")
    return value == "true"


def page(query: Mapping[str, str]) -> tuple[int, int]:
    """`?offset=N&limit=N` of a history page."""
    offset = _whole(query.get("offset"), "offset", 0, MAX_ID, 0)
    return offset, _whole(query.get("limit"), "limit", 1, HISTORY_PAGE_MAX, HISTORY_PAGE)


def _whole(value: str | None, name: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    digits = value.strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= 10 and low <= int(digits) <= high:
        return int(digits)
    raise InvalidInput(say("{name} must be a whole number from {low} to {high}.", name=name,
                           low=low, high=high))
