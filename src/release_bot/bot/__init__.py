"""The outside world: CLI, settings, pipelines file, and later Slack and the scheduler."""
