"""Pure domain of release-bot: no IO, no SQL, no Slack, no clock reads."""
