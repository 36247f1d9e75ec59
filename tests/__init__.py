"""release-bot's tests; shared helpers live in `tests.support`."""
