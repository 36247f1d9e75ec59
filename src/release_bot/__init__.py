"""release-bot: run feature-gate and dynamic-config release pipelines from Slack."""
