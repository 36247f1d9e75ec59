"""Durations as people write them in the pipelines file: 90s, 30m, 2h, 1h30m, 1d — with a unit,
between 1 second (or a shorter floor the caller gives) and 365 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_bot.core.durations import format_duration, parse_duration

HOW = "write it like 90s, 30m, 2h, 1h30m or 1d"


@pytest.mark.parametrize(("text", "expected"), [
    ("90s", timedelta(seconds=90)),
    ("30m", timedelta(minutes=30)),
    ("2h", timedelta(hours=2)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d", timedelta(days=1)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("1s", timedelta(seconds=1)),
    ("365d", timedelta(days=365)),
    (" 2H ", timedelta(hours=2)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
])
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("", f"'' is not a duration: {HOW}"),
    ("abc", f"'abc' is not a duration: {HOW}"),
    ("1.5h", f"'1.5h' is not a duration: {HOW}"),
    ("-5m", f"'-5m' is not a duration: {HOW}"),
    ("30m1h", f"'30m1h' is not a duration: {HOW}"),
    ("1m1m", f"'1m1m' is not a duration: {HOW}"),
    ("²s", f"'²s' is not a duration: {HOW}"),
    ("x" * 1000, f"'{'x' * 31}…' is not a duration: {HOW}"),
    ("45", f"'45' has no unit: {HOW} (seconds are 's')"),
    (45, f"45 has no unit: {HOW} (seconds are 's', so 45s)"),
    (1.5, f"a number is not a duration: {HOW}"),
    (-5, f"a number is not a duration: {HOW}"),
    (None, f"a duration is needed here: {HOW}"),
    (True, f"true is not a duration: {HOW}"),
    ([1], f"a list is not a duration: {HOW}"),
    ({"h": 1}, f"a mapping is not a duration: {HOW}"),
    ("0s", "0s is shorter than 1s, the shortest allowed here"),
    ("366d", "366d is longer than 365d, the longest a duration may be"),
    ("3000000d", "3000000d is longer than 365d, the longest a duration may be"),
    ("99999999999d", "99999999999d is longer than 365d, the longest a duration may be"),
    ("9" * 40 + "s", f"'{'9' * 31}…' is not a duration: {HOW}"),
])
def test_parse_refuses_with_what_would_be_right(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


def test_the_caller_sets_the_shortest() -> None:
    assert parse_duration("0s", shortest=timedelta(0)) == timedelta(0)
    assert parse_duration("1m", shortest=timedelta(minutes=1)) == timedelta(minutes=1)
    with pytest.raises(ValueError, match="^59s is shorter than 1m, the shortest allowed here$"):
        parse_duration("59s", shortest=timedelta(minutes=1))


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=90), "1m30s"),
    (timedelta(minutes=30), "30m"),
    (timedelta(hours=2), "2h"),
    (timedelta(hours=1, minutes=30), "1h30m"),
    (timedelta(days=1), "1d"),
    (timedelta(days=2, seconds=1), "2d1s"),
    (timedelta(0), "0s"),
    (timedelta(seconds=-5), "0s"),
])
def test_format(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@given(st.integers(min_value=1, max_value=365 * 86400))
def test_format_reads_back_as_the_same_duration(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@given(st.text(max_size=40) | st.integers() | st.floats() | st.none() | st.booleans())
def test_anything_else_is_a_duration_in_range_or_one_sentence(value: object) -> None:
    try:
        parsed = parse_duration(value)
    except ValueError as error:
        assert "\n" not in str(error) and len(str(error)) < 200
    else:
        assert timedelta(seconds=1) <= parsed <= timedelta(days=365)
