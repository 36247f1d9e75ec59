"""Flag values are plain JSON within limits, refused in one sentence otherwise."""

from __future__ import annotations

import pytest

from release_bot.core.errors import InvalidInput, Kind
from release_bot.core.values import MAX_DEPTH, check_value, parse_value


@pytest.mark.parametrize("text, value", [
    ("true", True), ('{"limit": 5, "names": ["a", "b"]}', {"limit": 5, "names": ["a", "b"]}),
    (str(2**63 - 1), 2**63 - 1), ('"ünïcødé ✓"', "ünïcødé ✓"), ("-1.5e3", -1500.0),
    ("9.2e18", 9.2e18), ("5e-324", 5e-324),
])
def test_plain_json_is_accepted(text: str, value: object) -> None:
    assert parse_value(text) == value


@pytest.mark.parametrize("text, words", [
    ("nope", "is not JSON (Expecting value at column 1)"),
    ('{"a": 1, "a": 2}', "The key a is given twice"),
    ("NaN", "NaN is not JSON"),
    ("1e400", "1e400 is too large: numbers must fit in 64 bits"),
    ("-1.5e19", "-1.5e19 is too large: numbers must fit in 64 bits"),
    (str(2**63), "too large: numbers must fit in 64 bits"),
    # Postgres would give 6.965330903273474e+16 back as the integer 69653309032734740
    ("6.965330903273474e+16", "is not exact: beyond 2^53 a number with a fraction or exponent"),
    ("-6.965330903273474e16", "write it as a whole number, such as -69653309032734736,"),
    ("9" * 5000, "too large"),
    ('"a\\u0000b"', "NUL character"),
    ('"\\ud800"', "lone surrogate"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nested more than {MAX_DEPTH} levels"),
    ("[" * 60_000, "nested more than"),
    ('"' + "x" * 70_000 + '"', "longer than 64 KiB"),
])
def test_anything_else_is_one_sentence_about_the_value(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_value(text)
    assert words in caught.value.message and caught.value.kind is Kind.VALUE
    assert "\n" not in caught.value.message and len(caught.value.message) < 300


def test_values_parsed_elsewhere_meet_the_same_limits() -> None:
    nested: list[object] = []
    for _ in range(MAX_DEPTH):
        nested = [nested]
    for bad in ({"a": float("nan")}, {1: "x"}, {"k": "a\x00"}, nested, 2**64, {"s": {1, 2}},
                {"a": 1.7976931348623157e308}):
        with pytest.raises(InvalidInput):
            check_value(bad)
