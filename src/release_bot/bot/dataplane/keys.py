"""SDK keys: who may read an environment's flags (RELEASE_BOT_SDK_KEYS=env:key,env:key).

Every data-plane route asks `SdkKeys.allows` before anything else, so a request without its
environment's key learns nothing, not even whether the environment or the flag exists.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

EXAMPLE = "production:KEY1,staging:KEY2"


class SdkKeys:
    """The keys of each environment; an application sends one as a bearer token or X-API-Key."""

    def __init__(self, keys: Mapping[str, tuple[bytes, ...]]) -> None:
        self._keys = dict(keys)

    @classmethod
    def parse(cls, text: str) -> SdkKeys:
        """Keys from `env:key,env:key` (several keys per environment allowed, for rotation);
        ValueError says what is wrong without repeating any key."""
        keys: dict[str, tuple[bytes, ...]] = {}
        for number, pair in enumerate(text.split(","), start=1):
            environment, colon, key = (part.strip() for part in pair.partition(":"))
            if not (colon and environment and key):
                raise ValueError(f"RELEASE_BOT_SDK_KEYS is not valid (pair {number}): write "
                                 f"environment:key pairs separated by commas, such as {EXAMPLE}.")
            keys[environment] = (*keys.get(environment, ()), key.encode())
        return cls(keys)

    @property
    def environments(self) -> frozenset[str]:
        """The environments that have keys."""
        return frozenset(self._keys)

    def __repr__(self) -> str:
        return f"SdkKeys(environments={sorted(self._keys)})"

    def allows(self, environment: str, headers: Mapping[str, str]) -> bool:
        """True when the headers carry one of the environment's keys."""
        given = _key_in(headers)
        if given is None:
            return False
        offered = given.encode()
        # every key is compared, so the time taken does not tell which one nearly matched
        matches = [hmac.compare_digest(offered, key) for key in self._keys.get(environment, ())]
        return any(matches)


def _key_in(headers: Mapping[str, str]) -> str | None:
    """The key a request carries: `Authorization: Bearer KEY`, else `X-API-Key: KEY`."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return headers.get("x-api-key")
