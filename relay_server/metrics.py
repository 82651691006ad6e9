"""Prometheus metrics: connected devices, pushes by state, delivery latency."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import peewee as pw
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from relay_server.db import database
from relay_server.models import Push

if TYPE_CHECKING:
    from relay_server.group_commit import GroupCommit
    from relay_server.hub import Hub


class _PushStateCollector:
    """Counts pushes by state straight from the database (the source of truth)."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("appbeam_pushes", "Pushes by current state", labels=["state"])
        with database.connection_context():
            query = Push.select(Push.state, pw.fn.COUNT(Push.id).alias("n")).group_by(Push.state).tuples()
            rows = cast("Iterable[tuple[str, int]]", query)  # (peewee's stubs: .tuples() keeps models)
            for state, count in rows:
                family.add_metric([state], count)
        yield family


class _GroupCommitCollector:
    """Transactions the group commit wrote and the writes they carried (writes / transactions =
    the mean batch)."""

    def __init__(self, commits: GroupCommit):
        self.commits = commits

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "appbeam_write_transactions",
            "Transactions committed for pushes and reports",
            value=self.commits.transactions,
        )
        yield CounterMetricFamily(
            "appbeam_writes",
            "Pushes and reports written (several per transaction when they arrive together)",
            value=self.commits.writes,
        )


class RelayMetrics:
    """One registry per relay application (tests create many applications)."""

    def __init__(self, hub: Hub):
        self.registry = CollectorRegistry()
        self.connected = Gauge("appbeam_connected_devices", "Devices with an open event stream", registry=self.registry)
        self.connected.set_function(hub.connected_count)
        self.pushes_created = Counter("appbeam_pushes_created", "Pushes accepted", registry=self.registry)
        self.delivery_latency = Histogram(
            "appbeam_delivery_latency_seconds",
            "From push accepted to the device's acknowledgement",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600, 86400),
            registry=self.registry,
        )
        self.registry.register(_PushStateCollector())

    def watch_commits(self, commits: GroupCommit) -> None:
        self.registry.register(_GroupCommitCollector(commits))

    def observe_delivery(self, created_at: datetime, acknowledged_at: datetime) -> None:
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        self.delivery_latency.observe(max(0.0, (acknowledged_at - created_at).total_seconds()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
