"""Which pipelines cannot work: a later phase with a smaller share of the same scope, and a gate
asking more approvals than the file says anyone could give. Everything else is left to run."""

from __future__ import annotations

import pytest

from release_bot.bot.runtime.pipelines_config import PipelinesFileError
from release_bot.bot.runtime.pipelines_file import parse_pipelines


def _file(phases: str, members: str = "", permissions: str = "") -> str:
    """A file of one pipeline `p`; members and permissions are flow mappings when given."""
    text = f"members: {members}\n" if members else ""
    text += "pipelines:\n  p:\n"
    text += f"    permissions: {permissions}\n" if permissions else ""
    return text + f"    phases:\n{phases}"


def _phase(name: str, envs: str, more: str = "") -> str:
    return f"      - {{name: {name}, environments: [{envs}]{more}}}\n"


WORKABLE = {
    "growing-shares": _phase("A", "prod", ", percentage: 10")
    + _phase("B", "prod", ", percentage: 50") + _phase("C", "prod"),
    "same-share-again": _phase("A", "prod", ", percentage: 10")
    + _phase("B", "prod", ", percentage: 10"),
    "smaller-share-of-another-match": _phase("A", "prod", ", match: {plan: beta}")
    + _phase("B", "prod", ", percentage: 10"),
    "smaller-share-elsewhere": _phase("A", "staging") + _phase("B", "prod", ", percentage: 10"),
    "as-many-approvals-as-people": _phase("A", "prod", ", approval: {groups: [U0A, U0B], "
                                          "required: 2}"),
    "a-group-only-slack-knows": _phase("A", "prod", ", approval: {groups: ['@approvers'], "
                                       "required: 50}"),
    "a-gate-open-to-anyone": _phase("A", "prod", ", approval: {required: 3}"),
}

UNWORKABLE = {
    "smaller-share-in-a-shared-environment": (
        _file(_phase("A", "staging, prod", ", percentage: 50")
              + _phase("B", "prod", ", percentage: 10")),
        "f.yml:5: pipeline 'p', phase 2 ('B'), percentage: phase 1 ('A') already serves prod to "
        "50% of units, so 10% here would add nobody and misstate the share: give this phase at "
        "least 50%, or move it before phase 1",
    ),
    "same-match-written-in-another-order": (
        _file(_phase("A", "prod", ", match: {plan: [pro, beta]}")
              + _phase("B", "prod", ", match: {plan: [beta, pro]}, percentage: 1")),
        "f.yml:5: pipeline 'p', phase 2 ('B'), percentage: phase 1 ('A') already serves prod to "
        "every unit, so 1% here would add nobody and misstate the share: give this phase at "
        "least 100%, or move it before phase 1",
    ),
    "user-ids-too-few": (
        _file(_phase("A", "prod", ", approval: {groups: [U0A, W0B], required: 3}")),
        "f.yml:4: pipeline 'p', phase 1 ('A'), approval, required: needs 3 approvals but only 2 "
        "people can ever give one (U0A, W0B): lower required to 2, or add approvers",
    ),
    "members-counted-once": (
        _file(_phase("A", "prod", ", approval: {groups: ['@a', '@b', U0X], required: 4}"),
              members='{"@a": [U0X, U0Y], "@b": [U0Y, U0Z]}'),
        "f.yml:5: pipeline 'p', phase 1 ('A'), approval, required: needs 4 approvals but only 3 "
        "people can ever give one (U0X, U0Y, U0Z): lower required to 3, or add approvers",
    ),
    "permissions-approve-as-fallback": (
        _file(_phase("A", "prod", ", approval: {required: 2}"), permissions="{approve: [U0X]}"),
        "f.yml:5: pipeline 'p', phase 1 ('A'), approval, required: needs 2 approvals but only 1 "
        "person can ever give one (U0X): lower required to 1, or add approvers",
    ),
}


@pytest.mark.parametrize("case", list(WORKABLE), ids=list(WORKABLE))
def test_workable_pipelines_pass(case: str) -> None:
    assert parse_pipelines(_file(WORKABLE[case]), "f.yml").pipelines["p"]


@pytest.mark.parametrize("case", list(UNWORKABLE), ids=list(UNWORKABLE))
def test_unworkable_pipelines_are_refused_at_the_line_to_change(case: str) -> None:
    text, message = UNWORKABLE[case]
    with pytest.raises(PipelinesFileError) as refused:
        parse_pipelines(text, "f.yml")
    assert str(refused.value) == message
