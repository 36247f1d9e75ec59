"""Webhook secrets: read from the environment variables the pipelines file names."""

from __future__ import annotations

import binascii
from collections.abc import Mapping

from standardwebhooks import Webhook as Signer
from standardwebhooks.webhooks import EmptyWebhookSecretError

from release_bot.bot.runtime.pipelines_config import PipelinesFileError
from release_bot.core.errors import DomainError
from release_bot.core.models import Pipeline

HOW = "export it with a secret such as whsec_$(openssl rand -base64 32)"


class MissingSecret(DomainError):
    """A webhook's secret variable is unset or holds no usable secret."""


def signer(name: str, environ: Mapping[str, str]) -> Signer:
    """The signer for the secret in the variable `name`; MissingSecret saying what to do."""
    secret = environ.get(name, "")
    if not secret:
        raise MissingSecret(f"{name} is not set: {HOW}.")
    try:
        return Signer(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        raise MissingSecret(
            f"{name} holds no usable webhook secret (whsec_ and base64 are expected): {HOW}."
        ) from None


def check_secrets(pipelines: Mapping[str, Pipeline], environ: Mapping[str, str]) -> None:
    """Refuse to serve while a webhook's secret is missing: one sentence a line per webhook."""
    problems = []
    for name, pipeline in sorted(pipelines.items()):
        for webhook in pipeline.webhooks:
            try:
                signer(webhook.secret_env, environ)
            except MissingSecret as error:
                problems.append(f"pipeline '{name}', webhook {webhook.url}: {error.message}")
    if problems:
        raise PipelinesFileError("\n".join(problems))
