"""`webhooks:` in the pipelines file: checked with file and line, shown by `pipelines check`,
and `serve` refuses to start while a webhook's secret variable is unset or unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_support import EXAMPLE, Cli

HOOKS = """    webhooks:
      - url: https://ci.example.com/hooks/release-bot
        secret_env: RELEASE_HOOK_SECRET
"""
WHERE = "    channel: C0123456789            # where status messages and notifications go\n"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PLACE = "pipeline 'standard', webhook 1"


def with_hooks(tmp_path: Path, hooks: str = HOOKS) -> Cli:
    """A CLI on the example file with webhooks added to the standard pipeline."""
    text = EXAMPLE.read_text()
    assert text.count(WHERE) == 1
    config = tmp_path / "pipelines.yml"
    config.write_text(text.replace(WHERE, WHERE + hooks))
    return Cli(f"sqlite:///{tmp_path / 'release-bot.db'}", config)


def test_pipelines_check_shows_the_webhooks_and_an_unset_secret(tmp_path: Path) -> None:
    cli = with_hooks(tmp_path)
    out = cli.ok("pipelines", "check", env={"RELEASE_HOOK_SECRET": None}).splitlines()
    assert out[1:3] == [
        "  webhook: https://ci.example.com/hooks/release-bot (signed with the secret in "
        "RELEASE_HOOK_SECRET)",
        "  note: RELEASE_HOOK_SECRET is not set here; serve will not start without it",
    ]
    out = cli.ok("pipelines", "check", env={"RELEASE_HOOK_SECRET": SECRET}).splitlines()
    assert not any("not set" in line for line in out)


@pytest.mark.parametrize(("hooks", "problem"), [
    (HOOKS.replace("https://ci.example.com/hooks/release-bot", "ftp://ci.example.com/x"),
     f"{PLACE}, url: 'ftp://ci.example.com/x' is not a webhook URL: write http:// or https://, "
     "a host and a path, such as https://ci.example.com/hooks/release-bot"),
    (HOOKS.replace("RELEASE_HOOK_SECRET", "release hook"),
     f"{PLACE}, secret_env: 'release hook' is not an environment variable name: write "
     "letters, digits and '_', such as RELEASE_WEBHOOK_SECRET"),
    (HOOKS + "        secret: whsec_abc\n",
     f"{PLACE}, secret: not a known setting here (misspelt or misplaced?); did you mean "
     "'secret_env'?"),
    (HOOKS + HOOKS.removeprefix("    webhooks:\n"),
     "pipeline 'standard': the webhook 'https://ci.example.com/hooks/release-bot' is listed "
     "twice: list each URL once (its receiver would get every event twice)"),
])
def test_a_bad_webhook_is_refused_with_its_line(
    tmp_path: Path, hooks: str, problem: str
) -> None:
    cli = with_hooks(tmp_path, hooks)
    message = cli.fail("pipelines", "check", code=2)
    assert message.startswith(f"{cli.config}:1")
    assert message.split(": ", 1)[1] == problem
    assert cli.fail("serve", code=2) == message


@pytest.mark.parametrize(("value", "problem"), [
    (None, "RELEASE_HOOK_SECRET is not set"),
    ("not base64!", "RELEASE_HOOK_SECRET holds no usable webhook secret (whsec_ and base64 "
     "are expected)"),
])
def test_serve_refuses_to_start_without_a_webhook_secret(
    tmp_path: Path, value: str | None, problem: str
) -> None:
    cli = with_hooks(tmp_path)
    assert cli.fail("serve", code=2, env={"RELEASE_HOOK_SECRET": value}) == (
        "pipeline 'standard', webhook https://ci.example.com/hooks/release-bot: "
        f"{problem}: export it with a secret such as whsec_$(openssl rand -base64 32)."
    )
    assert not (tmp_path / "release-bot.db").exists()
