"""Wakes the event streams of devices when something was written for them.

Only ids travel through the hub: the database is the source of truth, so a stream that
is woken simply reads its new events. With gevent the waits are cooperative; under a
plain threaded server they are ordinary thread waits. With a ``cluster`` (several relay
processes on PostgreSQL) wake-ups, disconnects and presence also reach the other processes.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cluster.py builds on the hub
    from relay_server.cluster import Cluster


class Subscription:
    """One open event stream of one device."""

    def __init__(self, hub: "Hub", device_id: str, token_hash: str | None = None):
        self.hub = hub
        self.device_id = device_id
        self.token_hash = token_hash
        self._wake = threading.Event()
        self.closed = False

    def wait(self, timeout: float) -> bool:
        """Block until woken or ``timeout``; True if there may be something new."""
        self._wake.wait(timeout)
        # Read and reset the flag in one step, not from wait()'s answer: a wake-up that lands
        # after the timeout fired but before this waiter ran again (gevent answers False
        # then) would otherwise be cleared unseen, and the push left for the next wake-up.
        with self.hub.lock:
            woken = self._wake.is_set()
            self._wake.clear()
        return woken

    def wake(self) -> None:
        with self.hub.lock:
            self._wake.set()

    def close(self) -> None:
        """Ask the stream to end (device removed, token revoked, relay stopping)."""
        self.closed = True
        self._wake.set()


class Hub:
    """Registry of open streams by device id (this process's, plus the cluster's presence)."""

    def __init__(self) -> None:
        #: Guards the registry, and each subscription's wake flag (set vs read-and-reset).
        self.lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        #: Set when several processes share the database (a ``HostCluster`` is a ``Cluster`` too).
        self.cluster: Cluster | None = None

    def subscribe(self, device_id: str, token_hash: str | None = None) -> Subscription:
        sub = Subscription(self, device_id, token_hash)
        with self.lock:
            first = not self._subs.get(device_id)
            self._subs[device_id].add(sub)
        if first and self.cluster is not None:
            self.cluster.set_present(device_id, True)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self.lock:
            subs = self._subs.get(sub.device_id)
            last = False
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.device_id]
                    last = True
        if last and self.cluster is not None:
            self.cluster.set_present(sub.device_id, False)

    def notify(self, device_ids: Iterable[str]) -> None:
        """Wake every stream of these devices, in this process and the others."""
        device_ids = set(device_ids)
        self.wake_local(device_ids)
        if self.cluster is not None and device_ids:
            self.cluster.publish_wake(device_ids)

    def wake_local(self, device_ids: Iterable[str]) -> None:
        with self.lock:
            subs = [s for d in set(device_ids) for s in self._subs.get(d, ())]
        for sub in subs:
            sub.wake()

    def disconnect(self, device_id: str, token_hash: str | None = None) -> None:
        """Close the streams of this device (only those opened with ``token_hash`` if given)."""
        self.disconnect_local(device_id, token_hash)
        if self.cluster is not None:
            self.cluster.publish_disconnect(device_id, token_hash)

    def disconnect_local(self, device_id: str, token_hash: str | None = None) -> None:
        with self.lock:
            subs = [s for s in self._subs.get(device_id, ()) if token_hash in (None, s.token_hash)]
        for sub in subs:
            sub.close()

    def is_connected(self, device_id: str) -> bool:
        """True if the device holds a stream on this relay process or another live one."""
        with self.lock:
            if self._subs.get(device_id):
                return True
        return self.cluster is not None and self.cluster.is_present_elsewhere(device_id)

    def connected_count(self) -> int:
        """Devices with a stream on this process (each process reports its own)."""
        with self.lock:
            return len(self._subs)

    def close_all(self) -> None:
        with self.lock:
            subs = [s for group in self._subs.values() for s in group]
        for sub in subs:
            sub.close()
