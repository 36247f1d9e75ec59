"""The pipelines file: YAML validated with pydantic, every error with file, line and place."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

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
from release_bot.bot.runtime.pipelines_report import report, validation_problems
from release_bot.bot.runtime.pipelines_rules import unworkable
from release_bot.bot.runtime.pipelines_yaml import read_yaml
from release_bot.core.durations import SHORTEST_INTERVAL, parse_duration
from release_bot.core.guardrails import parse_condition
from release_bot.core.models import (
    TOKEN_PREFIX,
    Action,
    ApprovalGate,
    Check,
    OnFail,
    Phase,
    Pipeline,
    Webhook,
)
from release_bot.core.policy import is_token
from release_bot.core.quoting import shown
from release_bot.core.tokens import TOKEN_NAME

GROUP = re.compile(r"@[a-z0-9][a-z0-9._-]{0,79}|S[A-Z0-9]{1,40}")
USER = re.compile(r"[UW][A-Z0-9]{1,40}")
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
URL = re.compile(r"https?://[^\s/?#@]+(?:[/?#]\S*)?")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _token(principal: str) -> bool:
    """True for `token:NAME` with a name a token can have."""
    return is_token(principal) and bool(TOKEN_NAME.fullmatch(principal[len(TOKEN_PREFIX):]))


def _checked(test: Callable[[str], bool], why: str) -> Callable[[str], str]:
    """A validator that lets text through when test(text) holds, else says why."""

    def check(value: str) -> str:
        if not test(value):
            raise ValueError(why.format(shown(value)))
        return value

    return check


def _listed(why: str) -> Callable[[list[Any]], list[Any]]:
    """A validator that refuses an empty list, saying why."""

    def check(value: list[Any]) -> list[Any]:
        if not value:
            raise ValueError(why)
        return value

    return check


def _once_each(value: list[str]) -> list[str]:
    twice = next((item for i, item in enumerate(value) if item in value[:i]), None)
    if twice is not None:
        raise ValueError(f"'{shown(twice)}' is listed twice: list each environment once")
    return value


WHO = "a user group handle (@name), a group id (S…) or a user id (U…)"
Principal = Annotated[str, AfterValidator(_checked(
    lambda v: bool(GROUP.fullmatch(v) or USER.fullmatch(v)), "'{}' is not " + WHO))]
Permitted = Annotated[str, AfterValidator(_checked(
    lambda v: bool(GROUP.fullmatch(v) or USER.fullmatch(v) or _token(v)),
    "'{}' is not a user group handle (@name), a group id (S…), a user id (U…) or an API "
    "token (token:NAME)"))]
Group = Annotated[str, AfterValidator(_checked(
    lambda v: bool(GROUP.fullmatch(v)), "'{}' is not a group: write @name or an S… id"))]
User = Annotated[str, AfterValidator(_checked(
    lambda v: bool(USER.fullmatch(v)), "'{}' is not a user id: write U… or W… ids"))]
Text = Annotated[str, AfterValidator(_checked(
    lambda v: 0 < len(v) <= 200 and v.isprintable() and v.strip() == v,
    "'{}' is not usable here: write up to 200 printable characters on one line, "
    "without spaces around them"))]
Name = Annotated[str, AfterValidator(_checked(
    lambda v: 0 < len(v) <= 60 and v.isprintable() and v.strip() == v,
    "'{}' is not usable as a name: write up to 60 printable characters on one line, "
    "without spaces around them"))]
Identifier = Annotated[str, AfterValidator(_checked(
    lambda v: bool(IDENTIFIER.fullmatch(v)),
    "'{}' is not usable as a name here: write up to 63 letters, digits, '.', '_' or '-', "
    "starting with a letter or digit, such as production"))]
Url = Annotated[str, AfterValidator(_checked(
    lambda v: len(v) <= 2000 and bool(URL.fullmatch(v)),
    "'{}' is not a webhook URL: write http:// or https://, a host and a path, "
    "such as https://ci.example.com/hooks/release-bot"))]
EnvName = Annotated[str, AfterValidator(_checked(
    lambda v: bool(ENV_NAME.fullmatch(v)),
    "'{}' is not an environment variable name: write letters, digits and '_', "
    "such as RELEASE_WEBHOOK_SECRET"))]
Bake = Annotated[timedelta, BeforeValidator(lambda v: parse_duration(v, timedelta(0)))]
Interval = Annotated[timedelta, BeforeValidator(
    lambda v: parse_duration(v, SHORTEST_INTERVAL))]
SHORTEST_CHECK_INTERVAL = timedelta(seconds=5)
CheckInterval = Annotated[timedelta, BeforeValidator(
    lambda v: parse_duration(v, SHORTEST_CHECK_INTERVAL))]
Query = Annotated[str, AfterValidator(_checked(
    lambda v: len(v.strip()) > 0 and len(v) <= 4000
    and all(c.isprintable() or c in "\n\t" for c in v),
    "'{}' is not usable as a query: write a PromQL expression of up to 4000 printable "
    "characters"))]
Condition = Annotated[tuple[str, float], BeforeValidator(parse_condition)]
PermissionList = Annotated[list[Permitted], AfterValidator(_listed(
    "an empty list would let anyone do it: remove the line to let anyone, or list who may "
    "(@name, S… or U…)"))]
GroupList = Annotated[list[Principal], AfterValidator(_listed(
    "an empty list would ask nobody: remove 'groups' to ask those of permissions.approve "
    "(or anyone), or list who may approve"))]
MatchValues = Annotated[
    list[Text],
    BeforeValidator(lambda v: [v] if isinstance(v, str) else v),
    AfterValidator(_listed("an empty list matches nobody: list the values to match")),
]


def _action_name(value: str) -> str:
    if _action(value) is None:
        known = ", ".join(a.value for a in Action)
        raise ValueError(f"unknown action '{shown(value)}' (known: {known})")
    return value


# a key of `permissions:`, checked one by one so that an error points at the misspelt line
ActionName = Annotated[str, AfterValidator(_action_name)]


class _Strict(BaseModel):
    """Known settings only, and no quiet conversions: `true` is not 1, `5` is not text."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ApprovalSpec(_Strict):
    """`approval:` of a phase."""

    groups: GroupList = []
    required: int = Field(1, ge=1, le=100)


class CheckSpec(_Strict):
    """One entry of a phase's `checks:`: a Prometheus query and when its value fails."""

    name: Name
    query: Query
    fail_if: Condition
    every: CheckInterval
    after: Bake = timedelta(0)
    failures: int = Field(1, ge=1, le=100)
    on_fail: Literal["pause", "abort"] = "pause"


class PhaseSpec(_Strict):
    """One entry of `phases:`."""

    name: Name
    environments: Annotated[list[Identifier], AfterValidator(_once_each)] = Field(min_length=1)
    percentage: float | None = Field(None, ge=0, le=100, allow_inf_nan=False)
    match: dict[Text, MatchValues] = {}
    approval: ApprovalSpec | None = None
    bake: Bake = timedelta(0)
    checks: list[CheckSpec] = []

    @model_validator(mode="after")
    def _check(self) -> PhaseSpec:
        names = [c.name for c in self.checks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            repeated = ", ".join(shown(n) for n in twice)
            raise ValueError(f"check names must be unique within a phase; repeated: {repeated}")
        return self


class WebhookSpec(_Strict):
    """One entry of `webhooks:`: where events go, and the variable holding the secret."""

    url: Url
    secret_env: EnvName


class PipelineSpec(_Strict):
    """One entry of `pipelines:`."""

    channel: Text | None = None
    allow_self_approval: bool = False
    remind_every: Interval = timedelta(hours=4)
    escalate_after: Interval = timedelta(hours=24)
    escalate_to: list[Principal] = []
    permissions: dict[ActionName, PermissionList] = {}
    phases: list[PhaseSpec] = Field(min_length=1)
    webhooks: list[WebhookSpec] = []

    @model_validator(mode="after")
    def _check(self) -> PipelineSpec:
        names = [p.name for p in self.phases]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            repeated = ", ".join(shown(n) for n in twice)
            raise ValueError(f"phase names must be unique; repeated: {repeated}")
        approvers = self.permissions.get(Action.APPROVE.value, [])
        tokens = [p for p in approvers if is_token(p)]
        if tokens:
            raise ValueError(f"permissions.approve lists {shown(tokens[0])}, but an API token "
                             "never approves: list people or groups there")
        urls = [w.url for w in self.webhooks]
        again = next((url for i, url in enumerate(urls) if url in urls[:i]), None)
        if again is not None:
            raise ValueError(f"the webhook '{shown(again)}' is listed twice: list each URL once "
                             "(its receiver would get every event twice)")
        return self


class PipelinesFileSpec(_Strict):
    """The whole file."""

    members: dict[Group, list[User]] = {}
    pipelines: dict[Identifier, PipelineSpec] = Field(min_length=1)


SETTINGS = sorted({name for spec in (ApprovalSpec, CheckSpec, PhaseSpec, PipelineSpec,
                                     PipelinesFileSpec, WebhookSpec)
                   for name in spec.model_fields})


def _action(name: str) -> Action | None:
    try:
        return Action(name.replace("-", "_"))
    except ValueError:
        return None


def _check_to_core(spec: CheckSpec) -> Check:
    comparison, threshold = spec.fail_if
    return Check(name=spec.name, query=spec.query.strip(), comparison=comparison,
                 threshold=threshold, every=spec.every, after=spec.after,
                 failures=spec.failures, on_fail=OnFail(spec.on_fail))


def _to_core(name: str, spec: PipelineSpec) -> Pipeline:
    phases = tuple(
        Phase(
            name=p.name,
            environments=tuple(p.environments),
            percentage=p.percentage,
            match={k: tuple(v) for k, v in p.match.items()},
            approval=ApprovalGate(tuple(p.approval.groups), p.approval.required)
            if p.approval
            else None,
            bake=p.bake,
            checks=tuple(_check_to_core(c) for c in p.checks),
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
        webhooks=tuple(Webhook(w.url, w.secret_env) for w in spec.webhooks),
    )


def parse_pipelines(text: str, source: str = "pipelines.yml") -> PipelinesConfig:
    """Validate pipelines YAML text and build core pipelines; PipelinesFileError on any problem."""
    document = read_yaml(text, source)
    if not isinstance(document.data, dict):
        raise PipelinesFileError(
            f"{source}:{document.line(())}: expected a mapping with a 'pipelines:' key"
        )
    try:
        spec = PipelinesFileSpec.model_validate(document.data)
    except ValidationError as error:
        raise PipelinesFileError(
            report(validation_problems(error, SETTINGS), document, source)
        ) from None
    config = PipelinesConfig(
        pipelines={name: _to_core(name, p) for name, p in spec.pipelines.items()},
        members={group: frozenset(users) for group, users in spec.members.items()},
    )
    problems = unworkable(config)
    if problems:
        raise PipelinesFileError(report(problems, document, source))
    return config


def load_pipelines(path: Path) -> PipelinesConfig:
    """Read and validate the pipelines file at path."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelinesFileError(
            f"{path}: no such file — create it (see pipelines.example.yml) "
            "or point RELEASE_BOT_CONFIG at yours"
        ) from None
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise PipelinesFileError(
            f"{path}:{line}: not UTF-8 text (byte {error.object[error.start]:#04x}): "
            "save the file as UTF-8"
        ) from None
    except OSError as error:
        raise PipelinesFileError(f"{path}: cannot be read: {error.strerror}") from None
    return parse_pipelines(text, str(path))
