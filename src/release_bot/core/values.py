"""Flag values: plain JSON within limits, one rule for every front and both databases.

A value is at most 64 KiB of JSON, nested at most 32 deep, with no NUL character and no lone
surrogate (Postgres refuses both), no duplicate keys, no NaN or Infinity, and numbers within the
64-bit integers (Postgres gives 1e300 back as a 301-digit integer, SQLite as a float); beyond
±2^53 a number with a fraction or exponent must be exactly the double it names (Postgres gives
6.965330903273474e+16 back as the integer 69653309032734740, where the double is
69653309032734736). Fronts
parse text with `parse_value`; a value already parsed (a JSON body) is checked with
`check_value`.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from release_bot.core.errors import InvalidInput, Kind
from release_bot.core.quoting import shown
from release_bot.core.sentences import say

MAX_BYTES = 64 * 1024
MAX_DEPTH = 32
INT_RANGE = (-(2**63), 2**63 - 1)
EXACT_FLOAT = 2.0**53


def _refuse(template: str, **params: Any) -> InvalidInput:
    return InvalidInput(say(template, **params), kind=Kind.VALUE)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:
        raise _refuse("The key {key} is given twice in one object: give each key once.",
                      key=shown(twice))
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise _refuse("{name} is not JSON: write a number, or quote it as a string.", name=name)


def _integer(digits: str) -> int:
    number = int(digits) if len(digits) <= 20 else None
    if number is None or not INT_RANGE[0] <= number <= INT_RANGE[1]:
        raise _too_large(digits)
    return number


def _decimal(text: str) -> float:
    number = float(text)
    _check_float(number, text)
    return number


def _check_float(number: float, text: str) -> None:
    if not abs(number) <= INT_RANGE[1]:
        raise _too_large(text)
    if abs(number) >= EXACT_FLOAT and Decimal(repr(number)) != Decimal(number):
        raise _refuse("{n} is not exact: beyond 2^53 a number with a fraction or exponent is "
                      "rounded; write it as a whole number, such as {whole}, or a string.",
                      n=shown(text), whole=str(int(number)))


def _too_large(digits: str) -> InvalidInput:
    return _refuse("{n} is too large: numbers must fit in 64 bits (write it as a string).",
                   n=shown(digits))


def parse_value(text: str) -> Any:
    """A flag value from JSON text, or InvalidInput saying what is wrong and what would do."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _refuse("The value is longer than {limit} KiB of JSON: keep flag values small.",
                      limit=MAX_BYTES // 1024)
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                           parse_int=_integer, parse_float=_decimal)
    except json.JSONDecodeError as error:
        raise _refuse(
            "{text} is not JSON ({problem} at column {column}): a gate takes true or false, "
            "a config an object such as {example}.", text=shown(text), problem=error.msg,
            column=error.colno, example='{"limit": 5}') from None
    except RecursionError:
        raise _too_deep() from None
    check_value(value)
    return value


def _too_deep() -> InvalidInput:
    return _refuse("The value is nested more than {depth} levels deep.", depth=MAX_DEPTH)


def check_value(value: Any) -> None:
    """Raise InvalidInput unless value is plain JSON within the limits."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise _refuse("Object keys must be strings.")
                _check_text(key)
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, str):
            _check_text(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT_RANGE[0] <= item <= INT_RANGE[1]:
                raise _too_large(str(item) if item.bit_length() < 4000 else "the integer")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _refuse("Values must be plain JSON: NaN and Infinity are not JSON.")
            _check_float(item, repr(item))
        else:
            raise _refuse("Values must be plain JSON, not {kind}.", kind=type(item).__name__)
    if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_BYTES:
        raise _refuse("The value is longer than {limit} KiB of JSON: keep flag values small.",
                      limit=MAX_BYTES // 1024)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _refuse("Text in a value may not contain the NUL character (\\u0000).")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse("Text in a value must be valid Unicode: {text} has a lone surrogate.",
                      text=shown(text.encode("utf-8", "replace").decode())) from None
