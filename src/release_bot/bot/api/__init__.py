"""The HTTP API for deploy pipelines: /api/v1, scoped tokens, problem+json errors."""
