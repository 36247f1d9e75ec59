"""API tokens as principals: named exactly, never a member of a group, never approving."""

from __future__ import annotations

from release_bot.core.models import Action, Scope
from release_bot.core.policy import groups_to_ask, is_token, may_act
from release_bot.core.rules import TokenHasScope, TokensNeverApprove


class _Asked:
    """Membership that records every question and says no."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def is_member(self, user_id: str, group: str) -> bool:
        self.asked.append((user_id, group))
        return False


def test_a_token_is_named_never_asked_about_and_asks_about_no_group() -> None:
    membership = _Asked()
    principals = ("@eng", "token:deploy", "U0ALICE")
    assert is_token("token:deploy") and not is_token("U0ALICE")
    assert may_act("token:deploy", principals, membership)
    assert not may_act("token:other", principals, membership)
    assert groups_to_ask("token:other", principals) == ()
    assert groups_to_ask("U0BOB", principals) == ("@eng",)  # a token is no group to ask about
    assert not may_act("U0BOB", principals, membership)
    assert membership.asked == [("U0BOB", "@eng")]


def test_scopes_bind_tokens_only() -> None:
    assert TokenHasScope("U0ALICE", None, Scope.ACT).broken() is None
    assert TokenHasScope("token:x", frozenset({Scope.ACT}), Scope.ACT).broken() is None
    refused = TokenHasScope("token:x", frozenset({Scope.READ, Scope.START}), Scope.ACT).broken()
    assert refused is not None and refused.plain == (
        "token:x may not act: it was created with --can read and start — create a token with "
        "--can act for this.")


def test_a_token_never_approves_and_people_are_not_concerned() -> None:
    assert TokensNeverApprove(Action.APPROVE, "U0ALICE").broken() is None
    assert TokensNeverApprove(Action.PAUSE, "token:x").broken() is None
    said = TokensNeverApprove(Action.APPROVE, "token:x").broken()
    assert said is not None and said.plain.startswith("token:x is an API token, and approvals")
