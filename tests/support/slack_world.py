"""A SlackContext over the in-memory core, and a recording Web API client, for listener tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from release_bot.bot.slack.context import SlackContext
from release_bot.core.models import FlagKind
from release_bot.core.service import ReleaseService
from tests.support.fakes import NOW, TRIGGERER, FakeStore, approvers_membership, three_phase

STATUS_AT = ("C0RELEASES", "1700000000.000100")
PERMALINK = "https://fake.slack.com/archives/C0RELEASES/p1700000000000100"


class Membership:
    """Approvers are ALICE, BOB and CAROL; no group has a Slack id."""

    def __init__(self) -> None:
        self.groups = approvers_membership()

    def is_member(self, user_id: str, group: str) -> bool:
        return self.groups.is_member(user_id, group)

    def group_ids(self, handles: Any) -> dict[str, str]:
        return {}

    def unknown_groups(self) -> frozenset[str]:
        return frozenset()


@dataclass
class Client:
    """The Web API methods show_status and a private reply use, recorded."""

    opened: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: list[dict[str, Any]] = field(default_factory=list)

    def chat_postEphemeral(self, **params: Any) -> dict[str, Any]:
        self.ephemeral.append(params)
        return {"ok": True}

    def chat_getPermalink(self, channel: str, message_ts: str) -> dict[str, Any]:
        assert (channel, message_ts) == STATUS_AT
        return {"ok": True, "permalink": PERMALINK}

    def views_open(self, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        self.opened.append({"trigger_id": trigger_id, "view": view})
        return {"ok": True}


@dataclass
class World:
    """A SlackContext over an in-memory store; one release waits for the canary's approval."""

    kicks: list[None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.service = ReleaseService(FakeStore().unit_of_work, {"standard": three_phase()},
                                      Membership())
        self.service.create_flag("new_checkout", FlagKind.GATE, "standard", False, TRIGGERER, NOW)
        release = self.service.start_release("new_checkout", True, TRIGGERER, NOW)
        self.service.advance_due(NOW + timedelta(hours=1))
        assert release.id is not None
        self.release_id = release.id
        self.ctx = SlackContext(self.service, Membership(), lambda: self.kicks.append(None),
                                lambda: NOW + timedelta(hours=1), lambda _: STATUS_AT)
