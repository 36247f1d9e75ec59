"""Changes made outside Slack (the CLI, through the service) reach the channel on their own."""

from __future__ import annotations

from release_bot.core.models import Action, Command
from tests.support.flows import FLAG, StatusMessage, issued_ts, status_posts, texts, thread_replies
from tests.support.harness import CHANNEL, DEV, RunningBot


def test_release_started_outside_slack_gets_a_status_message(bot: RunningBot) -> None:
    bot.create_flag()

    # As `release-bot start` would: through the service, with no doorbell rung for delivery.
    release = bot.service.start_release(FLAG, True, DEV, bot.runtime.slack.ctx.clock())

    bot.fake.wait_for("chat.postMessage", timeout=5)  # the deliverer polls every second
    [post] = status_posts(bot.fake)
    assert post.params["channel"] == CHANNEL
    assert f"Release #{release.id}" in texts(post.params["blocks"])
    assert "*Baking* phase *Staging*" in texts(post.params["blocks"])

    # A later change made outside Slack redraws the same message and says so in its thread.
    assert release.id is not None
    status = StatusMessage(release.id, CHANNEL, issued_ts(bot.fake, post))
    bot.service.act(Command(release.id, Action.PAUSE, DEV, 0), bot.runtime.slack.ctx.clock())
    [update] = bot.fake.wait_for("chat.update", timeout=5)
    assert (update.params["channel"], update.params["ts"]) == (status.channel, status.ts)
    assert "*Paused* in phase *Staging*" in texts(update.params["blocks"])
    bot.wait_until(lambda: thread_replies(bot.fake, status))
    assert "paused the bake timer" in thread_replies(bot.fake, status)[0].params["text"]
