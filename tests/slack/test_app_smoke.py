"""Smoke: a release started from /release shows up as a status message."""

from tests.support.harness import CHANNEL, DEV, RunningBot


def test_start_posts_status_message(bot: RunningBot) -> None:
    bot.create_flag()
    answer = bot.slash(DEV, "start new_checkout true")
    assert answer.status == 200
    post = bot.fake.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == CHANNEL
    reply = bot.fake.wait_for("response_url")[0]
    assert "Started release #1" in reply.params["text"]
