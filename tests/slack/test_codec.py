"""The one codec for values carried in buttons, menus and modals: round trips and refusals."""

from __future__ import annotations

import json

import pytest

from release_bot.bot.slack.ids import (
    Carried,
    Confirmation,
    HistoryPage,
    ReleaseRef,
    Target,
    Unreadable,
)
from release_bot.bot.slack.views.texts import mrkdwn_of
from release_bot.core.errors import Kind
from release_bot.core.models import Action
from release_bot.core.service import MAX_ID

OVERFLOW_VALUE_LIMIT = 150

VALUES: list[Carried] = [
    Target(Action.FULL_ROLLOUT, MAX_ID, 99),
    ReleaseRef(7),
    HistoryPage("team.new-checkout_2", 3),
    Confirmation(Target(Action.ABORT, 1, 0), "C0RELEASE", "1700000000.000100"),
    Confirmation(Target(Action.PAUSE, 1, 2), None, None),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_round_trips(value: Carried) -> None:
    assert type(value).decode(value.encode()) == value


def test_the_formats_are_those_of_messages_already_in_slack() -> None:
    assert Target(Action.APPROVE, 42, 1).encode() == "approve:42:1"
    assert ReleaseRef(42).encode() == "42"
    assert HistoryPage("new_checkout", 2).encode() == "new_checkout:2"
    confirmation = Confirmation(Target(Action.SKIP, 42, 1), "C1", "1.2").encode()
    assert json.loads(confirmation) == {"target": "skip:42:1", "channel": "C1", "ts": "1.2"}


def test_every_target_fits_an_overflow_option() -> None:
    longest = max((Target(a, 10**12, 999).encode() for a in Action), key=len)
    assert len(longest) <= OVERFLOW_VALUE_LIMIT


MALFORMED: list[tuple[type[Carried], object]] = [
    (Target, "approve:1"),
    (Target, "approve:1:1:1"),
    (Target, "launch:1:1"),
    (Target, "approve:1:-1"),
    (Target, "approve: 1:1"),
    (Target, "approve:١:1"),  # an Arabic-Indic digit: int() would take it
    (Target, ""),
    (Target, None),
    (ReleaseRef, "#42"),
    (HistoryPage, "new_checkout:0"),
    (HistoryPage, ":2"),
    (Confirmation, "not json"),
    (Confirmation, '{"target": 5}'),
    (Confirmation, '{"target": "pause:1:1", "ts": ["1"]}'),
    (Target, f"approve:{MAX_ID + 1}:1"),  # beyond what the app writes (and a database keeps)
    (Target, "approve:1:" + "9" * 4301),  # more digits than int() takes
    (ReleaseRef, ["42"]),
    (Confirmation, "[" * 5000),  # deeper than Python's JSON parser goes
    (Confirmation, '{"target": "pause:1:1", "channel": "\\ud800"}'),
    (Confirmation, '{"target": "pause:1:1", "ts": "<!here>"}'),
]


@pytest.mark.parametrize(("carrier", "value"), MALFORMED, ids=repr)
def test_a_malformed_value_is_unreadable_with_a_sentence(
    carrier: type[Carried], value: object
) -> None:
    with pytest.raises(Unreadable) as caught:
        carrier.decode(value)
    assert caught.value.kind is Kind.INPUT
    assert caught.value.message.startswith(f"This {carrier.what} could not be read (")
    assert caught.value.message.endswith(carrier.advice)


def test_an_unreadable_value_is_quoted_short_and_harmless_in_slack() -> None:
    with pytest.raises(Unreadable) as caught:
        Target.decode("<!channel>:" + "x" * 2000)
    text = mrkdwn_of(caught.value.sentence)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert len(text) < 200
