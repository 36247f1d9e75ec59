"""Who may act: principals per action and the Membership port that answers group questions."""

from __future__ import annotations

from typing import Protocol

from release_bot.core.models import TOKEN_PREFIX, Action, Pipeline, Release


class Membership(Protocol):
    """Answers whether a user belongs to a group (`@handle` or a group id such as `S0123`)."""

    def is_member(self, user_id: str, group: str) -> bool:
        """True if user_id is in group; raise MembershipUnavailable if that cannot be known."""
        ...


def is_user_id(principal: str) -> bool:
    """True for Slack user ids (`U…`, `W…`), which name one person rather than a group."""
    return principal[:1] in ("U", "W") and principal.isalnum() and principal.isupper()


def is_token(principal: str) -> bool:
    """True for `token:NAME`, an API token: listed by name, never a member of any group."""
    return principal.startswith(TOKEN_PREFIX)


def principals_for(release: Release, action: Action) -> tuple[str, ...] | None:
    """Who may take the action on this release now; None means anyone."""
    return allowed(release.pipeline, action, release.phase)


def allowed(pipeline: Pipeline, action: Action, phase: int) -> tuple[str, ...] | None:
    """Who may take the action in the pipeline's phase; None means anyone. Approval of a
    gated phase is asked of its groups, else of `permissions.approve`."""
    if action is Action.APPROVE:
        gate = pipeline.phases[phase].approval
        if gate is not None and gate.groups:
            return gate.groups
    listed = pipeline.permissions.get(action)
    return listed if listed else None


def groups_to_ask(actor: str, principals: tuple[str, ...] | None) -> tuple[str, ...]:
    """The groups whose membership decides whether actor is one of the principals (none for a
    token, which belongs to no group)."""
    if principals is None or actor in principals or is_token(actor):
        return ()
    return tuple(p for p in principals if not (is_user_id(p) or is_token(p)))


def may_act(user_id: str, principals: tuple[str, ...] | None, membership: Membership) -> bool:
    """True when the user is one of the principals or belongs to one of their groups."""
    if principals is None or user_id in principals:
        return True
    return any(membership.is_member(user_id, g) for g in groups_to_ask(user_id, principals))
