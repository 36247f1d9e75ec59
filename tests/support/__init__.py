"""Helpers shared by the test tiers and bench/: fakes, the fake Slack, harnesses."""
