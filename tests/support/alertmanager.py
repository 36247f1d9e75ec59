"""Alertmanager webhook bodies (version 4) shaped as Alertmanager sends them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def alert(name: str, flag: str | None = None, *, action: str | None = None,
          summary: str | None = None, status: str = "firing",
          labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One alert of a webhook body, labelled with the flag (and action) it is about."""
    all_labels = {"alertname": name, "severity": "critical", **(labels or {})}
    if flag is not None:
        all_labels["release_bot_flag"] = flag
    if action is not None:
        all_labels["release_bot_action"] = action
    annotations = {"description": f"{name} for a while"}
    if summary is not None:
        annotations["summary"] = summary
    return {
        "status": status,
        "labels": all_labels,
        "annotations": annotations,
        "startsAt": "2026-12-03T12:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": "1a30ba71cca2921f",
    }


def webhook(*alerts: Mapping[str, Any]) -> bytes:
    """A whole webhook body carrying the alerts."""
    return json.dumps({
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "release-bot",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }).encode()
