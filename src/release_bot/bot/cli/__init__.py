"""The `release-bot` command line: click commands and their plain-text and JSON output."""
