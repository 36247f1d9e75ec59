"""Webhooks out: every history event of a release, signed (Standard Webhooks), from the outbox."""
