"""The pipelines file: YAML validated with pydantic, every error with file, line and place."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from release_bot.bot.runtime.pipelines_config import PipelinesConfig, PipelinesFileError
from release_bot.core.durations import parse_duration
from release_bot.core.models import Action, ApprovalGate, Phase, Pipeline

PRINCIPAL = re.compile(r"^(@[a-z0-9][a-z0-9._-]*|S[A-Z0-9]+|[UW][A-Z0-9]+)$")
Duration = Annotated[
    timedelta, BeforeValidator(lambda v: v if isinstance(v, timedelta) else parse_duration(v))
]


def _principal(value: Any) -> Any:
    if isinstance(value, str) and not PRINCIPAL.match(value):
        raise ValueError(
            f"'{value}' is not a user group handle (@name), a group id (S…) or a user id (U…)"
        )
    return value


Principal = Annotated[str, BeforeValidator(_principal)]


def _action_name(value: str) -> str:
    if _action(value) is None:
        known = ", ".join(a.value for a in Action)
        raise ValueError(f"unknown action '{value}' (known: {known})")
    return value


# a key of `permissions:`, checked one by one so that an error points at the misspelt line
ActionName = Annotated[str, AfterValidator(_action_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalSpec(_Strict):
    """`approval:` of a phase."""

    groups: list[Principal] = []
    required: int = Field(1, ge=1)


class PhaseSpec(_Strict):
    """One entry of `phases:`."""

    name: str = Field(min_length=1, max_length=60)
    environments: list[str] = Field(min_length=1)
    percentage: float | None = Field(None, ge=0, le=100)
    match: dict[str, str | list[str]] = {}
    approval: ApprovalSpec | None = None
    bake: Duration = timedelta(0)


class PipelineSpec(_Strict):
    """One entry of `pipelines:`."""

    channel: str | None = None
    allow_self_approval: bool = False
    remind_every: Duration = timedelta(hours=4)
    escalate_after: Duration = timedelta(hours=24)
    escalate_to: list[Principal] = []
    permissions: dict[ActionName, list[Principal]] = {}
    phases: list[PhaseSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> PipelineSpec:
        names = [p.name for p in self.phases]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"phase names must be unique; repeated: {', '.join(twice)}")
        return self


class PipelinesFileSpec(_Strict):
    """The whole file."""

    members: dict[Principal, list[Principal]] = {}
    pipelines: dict[str, PipelineSpec] = Field(min_length=1)


def _action(name: str) -> Action | None:
    try:
        return Action(name.replace("-", "_"))
    except ValueError:
        return None


def _to_core(name: str, spec: PipelineSpec) -> Pipeline:
    phases = tuple(
        Phase(
            name=p.name,
            environments=tuple(p.environments),
            percentage=p.percentage,
            match={k: tuple(v) if isinstance(v, list) else (v,) for k, v in p.match.items()},
            approval=ApprovalGate(tuple(p.approval.groups), p.approval.required)
            if p.approval
            else None,
            bake=p.bake,
        )
        for p in spec.phases
    )
    permissions = {a: tuple(v) for k, v in spec.permissions.items() if (a := _action(k))}
    return Pipeline(
        name=name,
        phases=phases,
        channel=spec.channel,
        allow_self_approval=spec.allow_self_approval,
        permissions=permissions,
        remind_every=spec.remind_every,
        escalate_after=spec.escalate_after,
        escalate_to=tuple(spec.escalate_to),
    )


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)  # a mapping value: keep its key's line
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _duplicate_key(node: yaml.Node) -> yaml.Node | None:
    """The first key written twice in one mapping (YAML loaders silently keep the last)."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                return key
            seen.add(key.value)
            if (found := _duplicate_key(value)) is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if (found := _duplicate_key(item)) is not None:
                return found
    return None


def _place(loc: tuple[Any, ...], data: Any) -> str:
    parts, node = [], data
    for i, key in enumerate(loc):
        if i == 1 and loc[0] == "pipelines":
            parts.append(f"pipeline '{key}'")
        elif isinstance(key, int) and i >= 1 and loc[i - 1] == "phases":
            name = (
                node[key].get("name")
                if isinstance(node, list) and key < len(node) and isinstance(node[key], dict)
                else None
            )
            parts.append(f"phase {key + 1}" + (f" ('{name}')" if name else ""))
        elif not (key in ("pipelines", "phases") and i + 1 < len(loc)):
            parts.append(str(key))
        node = node[key] if isinstance(node, dict | list) and _has(node, key) else None
    return ", ".join(parts) or "top level"


def _has(node: dict[Any, Any] | list[Any], key: Any) -> bool:
    return key in node if isinstance(node, dict) else isinstance(key, int) and key < len(node)


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers) and the plain data built from it. libyaml
    is used when present (ten times faster); a file it refuses is parsed again in Python, whose
    error messages are the ones we show."""
    loaders: list[Callable[[str], Any]] = [yaml.SafeLoader]
    if getattr(yaml, "__with_libyaml__", False):
        loaders.insert(0, yaml.CSafeLoader)
    for number, loader_class in enumerate(loaders, start=1):
        loader = loader_class(text)
        try:
            root = loader.get_single_node()
            return root, None if root is None else loader.construct_document(root)
        except yaml.YAMLError:
            if number == len(loaders):
                raise
        finally:
            loader.dispose()
    raise AssertionError("unreachable")


def parse_pipelines(text: str, source: str = "pipelines.yml") -> PipelinesConfig:
    """Validate pipelines YAML text and build core pipelines; PipelinesFileError on any problem."""
    try:
        root, data = _parse_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(error, "problem", None) or str(error)
        raise PipelinesFileError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise PipelinesFileError(f"{source}: expected a mapping with a 'pipelines:' key")
    lines: dict[tuple[Any, ...], int] = {}
    if root is not None:
        twice = _duplicate_key(root)
        if twice is not None:
            raise PipelinesFileError(
                f"{source}:{twice.start_mark.line + 1}: '{twice.value}' is given twice "
                "in the same place"
            )
        _lines(root, (), lines)
    try:
        spec = PipelinesFileSpec.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(part for part in item["loc"] if not str(part).startswith("function-"))
            loc = tuple(p for p in loc if p not in ("str", "list[str]", "timedelta", "[key]"))
            line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), 1)
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "not a known setting here (misspelt or misplaced?)"
            elif item["type"] == "missing":
                message = "is required but missing"
            problems.append(f"{source}:{line}: {_place(loc, data)}: {message}")
        raise PipelinesFileError("\n".join(problems)) from None
    return PipelinesConfig(
        pipelines={name: _to_core(name, p) for name, p in spec.pipelines.items()},
        members={group: frozenset(users) for group, users in spec.members.items()},
    )


def load_pipelines(path: Path) -> PipelinesConfig:
    """Read and validate the pipelines file at path."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelinesFileError(
            f"{path}: no such file — create it (see pipelines.example.yml) "
            "or point RELEASE_BOT_CONFIG at yours"
        ) from None
    except OSError as error:
        raise PipelinesFileError(f"{path}: cannot be read: {error.strerror}") from None
    return parse_pipelines(text, str(path))
