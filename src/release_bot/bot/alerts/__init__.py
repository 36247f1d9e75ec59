"""The alerts front: Alertmanager's webhook as a kill switch for releases."""
