"""Every OFREP answer a flag can give in an environment, serialized once per change.

A flag has at most two versions in play (its base and a release's new one) and three reasons,
so each evaluation only picks bytes out of a small table built when the snapshot changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release_bot.bot.dataplane.snapshot import EnvironmentView
from release_bot.core.served import Reason, ServedFlag


@dataclass(frozen=True)
class FlagAnswers:
    """A flag's served state and its success bodies by (version, reason)."""

    served: ServedFlag
    bodies: Mapping[tuple[int, Reason], bytes]


@dataclass(frozen=True)
class EnvironmentAnswers:
    """Every flag's answers for one environment view, tagged with the view's ETag."""

    etag: str
    flags: Mapping[str, FlagAnswers]


def answers_for(view: EnvironmentView) -> EnvironmentAnswers:
    """The answers of every flag the environment serves."""
    return EnvironmentAnswers(
        view.etag, {key: _flag_answers(served) for key, served in view.flags.items()}
    )


def _flag_answers(served: ServedFlag) -> FlagAnswers:
    versions = {served.base_version: served.base_value}
    if served.new_version is not None:
        versions[served.new_version] = served.new_value
    return FlagAnswers(served, {
        (version, reason): encode(success(served, version, value, reason))
        for version, value in versions.items()
        for reason in Reason
    })


def success(served: ServedFlag, version: int, value: Any, reason: Reason) -> dict[str, Any]:
    """An OFREP evaluation success: the value, `v<version>` as its variant, why, and metadata
    (the version, and the release and its current phase while one is active)."""
    metadata: dict[str, Any] = {"version": version}
    if served.release_id is not None:
        metadata |= {"releaseId": served.release_id, "phase": served.phase_name}
    return {"key": served.key, "value": value, "reason": reason.value, "variant": f"v{version}",
            "metadata": metadata}


def failure(key: str | None, code: str, details: str) -> dict[str, Any]:
    """An OFREP evaluation failure (no key for a failure of a whole bulk request)."""
    body: dict[str, Any] = {"errorCode": code, "errorDetails": details}
    return body if key is None else {"key": key} | body


def encode(document: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(document, separators=(",", ":")).encode()
