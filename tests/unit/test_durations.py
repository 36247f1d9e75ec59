"""Durations as people write them in the pipelines file: 90s, 30m, 2h, 1h30m, 1d."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_bot.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("90s", timedelta(seconds=90)),
    ("30m", timedelta(minutes=30)),
    ("2h", timedelta(hours=2)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d", timedelta(days=1)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("0s", timedelta(0)),
    ("45", timedelta(seconds=45)),
    (45, timedelta(seconds=45)),
    (0, timedelta(0)),
    (" 2H ", timedelta(hours=2)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
])
def test_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "abc", "1x", "-5m", "h", "1.5h", "5m-", "m5", -5])
def test_parse_rejects(text):
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    if isinstance(text, str):
        assert "write it like 90s, 30m, 2h, 1h30m or 1d" in str(caught.value)


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
def test_format(delta, text):
    assert format_duration(delta) == text


@given(st.integers(min_value=0, max_value=10**8))
def test_format_reads_back_as_the_same_duration(seconds):
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta
