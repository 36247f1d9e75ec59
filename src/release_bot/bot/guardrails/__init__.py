"""Guardrails in `serve`: measure due checks against Prometheus and record what they see."""
