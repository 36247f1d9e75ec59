"""Bolt listeners: thin entry points that ack, parse, call one core service and render."""
