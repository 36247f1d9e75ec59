"""`release-bot token create|list|revoke`: a secret shown once, kept as a digest."""

from __future__ import annotations

from sqlalchemy import text

from release_bot.storage import make_engine
from tests.support.cli_support import Cli


def test_a_token_is_created_listed_and_revoked(cli: Cli, database_url: str) -> None:
    result = cli.invoke("token", "create", "deploy", "--can", "start", "--can", "read")
    assert result.exit_code == 0
    secret = result.stdout.strip()
    assert secret.startswith("rbt_") and len(secret) > 40 and "\n" not in secret
    assert "token:deploy" in result.stderr and "shown once" in result.stderr
    engine = make_engine(database_url)
    with engine.connect() as connection:
        kept = " ".join(str(v) for v in connection.execute(text("SELECT * FROM api_tokens")).one())
    engine.dispose()
    assert secret not in kept
    [listed] = cli.json("token", "list")
    assert (listed["name"], listed["scopes"], listed["last_used_at"], listed["revoked_at"]) == (
        "deploy", ["read", "start"], None, None)
    assert "never used" in cli.ok("token", "list")
    assert cli.ok("token", "revoke", "deploy") == "revoked token deploy\n"
    assert cli.json("token", "list")[0]["revoked_at"] is not None
    assert cli.fail("token", "revoke", "deploy") == "Token deploy was already revoked."
    assert cli.fail("token", "create", "deploy", "--can", "read") == (
        "There is already a token deploy (revoked or not): choose another name.")


def test_bad_token_commands_are_one_sentence(cli: Cli) -> None:
    assert cli.fail("token", "create", "two words", "--can", "read", code=2) == (
        "'two words' is not a valid token name: use letters, digits, '_', '.' or '-', at most 64.")
    assert "--can" in cli.fail("token", "create", "deploy", code=2)
    assert cli.fail("token", "revoke", "nobody") == "There is no token nobody."
