"""The Slack app: Bolt listeners, Block Kit builders, user-group membership, outbox delivery."""
