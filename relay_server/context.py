"""The relay's long-lived parts, shared by every request of one application."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

from relay_server.config import RelayConfig
from relay_server.hub import Hub
from relay_server.package_store import PackageStore
from relay_server.storage_health import StorageProbe

if TYPE_CHECKING:  # these modules import this one: the real classes, for the type checker only
    from relay_server.group_commit import GroupCommit
    from relay_server.janitor import Janitor
    from relay_server.limits import RateLimits
    from relay_server.metrics import RelayMetrics
    from relay_server.mirror import Mirror


@dataclass
class Relay:
    """Configuration, the stream hub, the package store, the mirror and the metrics.

    ``create_app`` fills in the parts that need the ``Relay`` itself (the mirror, the janitor)
    or the configuration (rate limits) right after building it, before any request arrives.
    """

    config: RelayConfig
    hub: Hub
    store: PackageStore
    mirror: Mirror
    metrics: RelayMetrics
    janitor: Janitor = field(init=False)
    limits: RateLimits = field(init=False)
    storage: StorageProbe | None = None
    #: Pushes and reports written together (None: each write in a transaction of its own).
    commits: GroupCommit | None = None


def current_relay() -> Relay:
    relay: Relay = current_app.extensions["appbeam_relay"]
    return relay
