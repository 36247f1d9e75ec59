"""Group membership from the pipelines file's `members:` map, for use without Slack."""

from __future__ import annotations

from collections.abc import Mapping


class StaticMembership:
    """Answers membership from a fixed map of group → user ids."""

    def __init__(self, members: Mapping[str, frozenset[str]]) -> None:
        self.members = members

    def is_member(self, user_id: str, group: str) -> bool:
        """True if the map lists user_id under group."""
        return user_id in self.members.get(group, frozenset())
