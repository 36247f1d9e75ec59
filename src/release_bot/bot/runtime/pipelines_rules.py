"""Pipelines that are well formed yet cannot work as written, found before anything runs."""

from __future__ import annotations

from collections.abc import Mapping

from release_bot.bot.runtime.pipelines_config import PipelinesConfig, Problem
from release_bot.core.models import Action, Phase, Pipeline
from release_bot.core.policy import allowed, is_user_id
from release_bot.core.quoting import shown


def unworkable(config: PipelinesConfig) -> list[Problem]:
    """Each place in the file that makes a pipeline unworkable, with what to write instead."""
    problems: list[Problem] = []
    for name, pipeline in config.pipelines.items():
        for index in range(len(pipeline.phases)):
            place = ("pipelines", name, "phases", index)
            share = _shrinking_share(pipeline, index)
            if share is not None:
                problems.append(((*place, "percentage"), share))
            approvers = _too_few_approvers(pipeline, index, config.members)
            if approvers is not None:
                problems.append(((*place, "approval", "required"), approvers))
    return problems


def _share(phase: Phase) -> float:
    """The percentage of units the phase reaches in its environments."""
    return 100.0 if phase.percentage is None else phase.percentage


def _words(share: float) -> str:
    return "every unit" if share >= 100 else f"{share:g}% of units"


def _shrinking_share(pipeline: Pipeline, index: int) -> str | None:
    """Why a phase reaching fewer units than an earlier one of the same scope adds nobody.

    Buckets are fixed per unit, so the units of a smaller share are already inside the larger
    one: the later phase would change nothing while its percentage told a smaller story.
    """
    later = pipeline.phases[index]
    for number, earlier in enumerate(pipeline.phases[:index], start=1):
        shared = [e for e in later.environments if e in earlier.environments]
        if shared and _same_match(earlier, later) and _share(later) < _share(earlier):
            return (
                f"phase {number} ('{shown(earlier.name)}') already serves {shown(shared[0])} to "
                f"{_words(_share(earlier))}, so {_share(later):g}% here would add nobody and "
                f"misstate the share: give this phase at least {_share(earlier):g}%, or move it "
                f"before phase {number}"
            )
    return None


def _same_match(one: Phase, other: Phase) -> bool:
    def values(phase: Phase) -> dict[str, frozenset[str]]:
        return {key: frozenset(allowed) for key, allowed in phase.match.items()}

    return values(one) == values(other)


def _too_few_approvers(
    pipeline: Pipeline, index: int, members: Mapping[str, frozenset[str]]
) -> str | None:
    """Why a gate asks more approvals than the people who could ever give them, when the file
    alone tells who they are (user ids, groups listed under `members:`)."""
    gate = pipeline.phases[index].approval
    principals = allowed(pipeline, Action.APPROVE, index)
    if gate is None or principals is None:
        return None
    people: set[str] = set()
    for principal in principals:
        if is_user_id(principal):
            people.add(principal)
        elif principal in members:
            people |= members[principal]
        else:
            return None  # Slack knows the group's members; the file does not
    if gate.required <= len(people):
        return None
    asked = shown(", ".join(principals), 80)
    needs = f"needs {_count(gate.required, 'approval')}"
    if not people:
        return (
            f"{needs} but nobody can give one: 'members:' lists nobody in {asked}; add people "
            "there, or list others who may approve"
        )
    return (
        f"{needs} but only {_count(len(people), 'person', 'people')} can ever give one "
        f"({shown(', '.join(sorted(people)), 80)}): lower required to {len(people)}, "
        "or add approvers"
    )


def _count(number: int, word: str, words: str | None = None) -> str:
    return f"{number} {word if number == 1 else words or word + 's'}"
