"""The relay's long-lived parts, shared by every request of one application."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from relay_server.config import RelayConfig
from relay_server.hub import Hub
from relay_server.package_store import PackageStore
from relay_server.storage_health import StorageProbe


@dataclass
class Relay:
    """Configuration, the stream hub, the package store, the mirror and the metrics."""

    config: RelayConfig
    hub: Hub
    store: PackageStore
    mirror: "object"  # relay_server.mirror.Mirror (set after construction)
    metrics: "object"  # relay_server.metrics.RelayMetrics
    janitor: "object" = None  # relay_server.janitor.Janitor
    limits: "object" = None  # relay_server.limits.RateLimits
    storage: StorageProbe | None = None
    commits: "object" = None  # relay_server.group_commit.GroupCommit (pushes and reports)


def current_relay() -> Relay:
    return current_app.extensions["appbeam_relay"]
