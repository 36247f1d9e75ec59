"""`/release help`, `list` and `history` answers, and the App Home tab."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from test_blocks import (
    NOW,
    PERMALINK,
    all_text,
    awaiting,
    baking,
    completed,
    controls_of,
    dicts,
    paused,
    section_texts,
)

from release_bot.bot.slack.ids import ActionId, HistoryPage, ReleaseRef, Target, Unreadable
from release_bot.bot.slack.views import (
    ReleaseSnapshot,
    help_blocks,
    history_blocks,
    home_view,
    list_blocks,
    status_modal,
)
from release_bot.core.models import Action, Event, Outcome


def numbered(snap: ReleaseSnapshot, number: int, flag: str | None = None) -> ReleaseSnapshot:
    r = replace(snap.release, id=number, flag_key=flag or f"flag_{number}")
    return replace(snap, release=r)


# --- help ------------------------------------------------------------------------------------

def test_help_lists_every_subcommand() -> None:
    text = all_text(dicts(help_blocks()))
    for usage in ("/release help", "/release list", "/release status [ID|FLAG]",
                  "/release history FLAG", "/release start FLAG VALUE"):
        assert f"`{usage}`" in text


# --- list ------------------------------------------------------------------------------------

def test_list_shows_one_section_per_active_release_with_show_status() -> None:
    snaps = [awaiting(), numbered(baking(), 43), completed()]
    blocks = dicts(list_blocks(snaps, NOW))
    assert blocks[0]["text"]["text"] == "Releases running now (2)"
    first, second = blocks[1], blocks[2]
    assert "*#42* `new_checkout`" in first["text"]["text"]
    assert "waiting for approval of *Production canary* (1 of 2)" in first["text"]["text"]
    # A listing names groups but never pings them.
    assert "<!subteam^" not in all_text(blocks)
    for section, number in ((first, 42), (second, 43)):
        button = section["accessory"]
        assert (button["action_id"], button["text"]["text"]) == (
            ActionId.OPEN_STATUS.value, "Show status")
        assert ReleaseRef.decode(button["value"]) == ReleaseRef(number) and "url" not in button
    assert "baking *Production canary* until <!date^" in second["text"]["text"]


def test_show_status_is_the_status_without_controls_and_links_where_to_act() -> None:
    linked = status_modal(replace(awaiting(), permalink=PERMALINK), NOW).to_dict()
    unlinked = status_modal(awaiting(), NOW).to_dict()

    assert (linked["type"], linked["title"]["text"]) == ("modal", "Release #42")
    assert "submit" not in linked
    assert "waiting for approval" in all_text(linked["blocks"]).lower()
    assert not [b for b in linked["blocks"] if b["type"] == "actions"]
    assert f"<{PERMALINK}|Open the status message> to act on it." in all_text(linked["blocks"])
    assert "its status message in <#C0RELEASES>" in all_text(unlinked["blocks"])


def test_an_empty_list_says_how_to_start() -> None:
    text = all_text(dicts(list_blocks([], NOW)))
    assert "No release is running" in text and "/release start FLAG VALUE" in text


def test_a_long_list_stays_within_fifty_blocks_and_says_how_many_are_left() -> None:
    blocks = dicts(list_blocks([numbered(paused(), i) for i in range(1, 81)], NOW))
    assert len(blocks) == 50
    assert "… and 32 more releases" in blocks[-1]["elements"][0]["text"]


# --- history ---------------------------------------------------------------------------------

def event(minute: int, **kw: Any) -> Event:
    defaults: dict[str, Any] = dict(
        flag_key="new_checkout", at=NOW + timedelta(minutes=minute), actor="U0ALICE",
        action="approve", outcome=Outcome.OK, message=f"approved phase *Canary* (minute {minute})",
        release_id=42, phase=1,
    )
    return Event(**{**defaults, **kw})


def test_history_is_latest_first_and_paged_with_a_next_button() -> None:
    events = [event(m) for m in range(25)]
    blocks = dicts(history_blocks("new_checkout", events, 1))
    text = "\n".join(section_texts(blocks))
    minutes = [int(line.split("minute ")[1].split(")")[0]) for line in text.splitlines()]
    assert minutes == list(range(24, 14, -1))
    [button] = controls_of(blocks)
    assert button["action_id"] == ActionId.HISTORY_NEXT.value
    assert HistoryPage.decode(button["value"]) == HistoryPage("new_checkout", 2)
    assert "Page 1 of 3 · 25 events" in all_text(blocks)


def test_the_last_history_page_has_no_next_button() -> None:
    blocks = dicts(history_blocks("new_checkout", [event(m) for m in range(25)], 3))
    assert len("\n".join(section_texts(blocks)).splitlines()) == 5
    assert controls_of(blocks) == []


def test_events_at_the_same_time_keep_the_given_order() -> None:
    events = [event(0, message="third"), event(0, message="second"), event(0, message="first")]
    text = "\n".join(section_texts(dicts(history_blocks("new_checkout", events, 1))))
    assert [line.rsplit(" · ", 1)[0].split("U0ALICE> ")[1] for line in text.splitlines()] == [
        "third", "second", "first"]


def test_history_shows_refusals_reasons_and_the_bot_itself() -> None:
    events = [
        event(1, actor="U0BOB", action="pause", outcome=Outcome.REFUSED,
              message="The bake timer of phase *Canary* is already paused — use Unpause."),
        event(2, action="abort", message="aborted the release", reason="errors <!here>\nspiked"),
        event(3, actor="release-bot", action="timer", message="the bake of phase *Canary* ended"),
    ]
    text = "\n".join(section_texts(dicts(history_blocks("new_checkout", events, 1))))
    assert "release-bot the bake of phase *Canary* ended" in text
    assert "> errors &lt;!here&gt; spiked" in text
    assert ":no_entry_sign: <@U0BOB> tried to *Pause* — refused: The bake timer" in text


def test_an_empty_history_and_a_page_past_the_end() -> None:
    assert "Nothing has happened to `new_checkout` yet." in all_text(
        dicts(history_blocks("new_checkout", [], 1)))
    assert "There is no page 5" in all_text(dicts(history_blocks("new_checkout", [event(0)], 5)))


@pytest.mark.parametrize("value", ["", "flag", "flag:", ":2", "flag:0", "flag:x", "flag:-1",
                                   "flag:²", "team:flag:3", "\ud800:1", "x" * 101 + ":1"])
def test_malformed_history_values_are_unreadable(value: str) -> None:
    with pytest.raises(Unreadable):
        HistoryPage.decode(value)



# --- home ------------------------------------------------------------------------------------

def test_home_puts_what_waits_on_the_user_first_with_an_approve_button() -> None:
    waiting = replace(awaiting(), permalink=PERMALINK)
    view = home_view("U0CAROL", [waiting], [waiting, numbered(baking(), 43)], NOW).to_dict()
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    texts = [b.get("text", {}).get("text", "") for b in view["blocks"]]
    waiting_at = texts.index("*Waiting for your approval*")
    running_at = next(i for i, t in enumerate(texts) if t.startswith("*Running now*"))
    assert waiting_at < running_at
    approve = view["blocks"][waiting_at + 1]["accessory"]
    assert approve["action_id"] == ActionId.APPROVE.value
    assert Target.decode(approve["value"]) == Target(Action.APPROVE, 42, 1)
    assert "confirm" in approve
    assert "1 of 2 approvals" in texts[waiting_at + 1]
    assert texts[running_at] == "*Running now* (2)"


def test_home_empty_state() -> None:
    view = home_view("U0CAROL", [], [], NOW).to_dict()
    text = all_text(view["blocks"])
    assert "Nothing is waiting for your approval." in text
    assert "No release is running." in text


def test_a_crowded_home_stays_within_a_hundred_blocks() -> None:
    waiting = [numbered(awaiting(), i) for i in range(1, 61)]
    active = waiting + [numbered(baking(), i) for i in range(100, 200)]
    view = home_view("U0CAROL", waiting, active, NOW).to_dict()
    assert len(view["blocks"]) == 100
    assert "more release" in all_text(view["blocks"][-1:])
