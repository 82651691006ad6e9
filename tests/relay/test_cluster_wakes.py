"""Wake-ups between relay processes on PostgreSQL (relay_server/cluster.py): every other process
wakes its streams, and the sender does not wake its own a second time when PostgreSQL hands it
back its own NOTIFY (each extra wake-up was a database read per stream per push)."""

from __future__ import annotations

import threading

import pytest

from relay_server.cluster import Cluster
from tests.helpers.database import test_database_url

pytestmark = pytest.mark.skipif(
    not test_database_url(), reason="needs PostgreSQL: run it through tests/with_postgres.sh (make test does)"
)


class _Streams:
    """A hub's side of the cluster: which devices it was asked to wake."""

    def __init__(self) -> None:
        self.woken: list[str] = []
        self.changed = threading.Condition()

    def wake_local(self, device_ids) -> None:
        with self.changed:
            self.woken.extend(device_ids)
            self.changed.notify_all()

    def disconnect_local(self, device_id, token_hash=None) -> None:
        pass

    def wait_for(self, device_id: str, timeout: float = 30.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: device_id in self.woken, timeout)


@pytest.fixture
def two_processes(app):
    """The relay's own cluster membership (its hub spied on) and a second member, as another
    relay process on the same database would be."""
    relay = app.extensions["appbeam_relay"]
    first = relay.hub.cluster
    assert isinstance(first, Cluster)
    seen_here = _Streams()
    first.hub = seen_here
    elsewhere = _Streams()
    second = Cluster(first.url, elsewhere)  # type: ignore[arg-type]
    second.start()
    try:
        yield first, seen_here, second, elsewhere
    finally:
        second.stop()


def test_a_wake_up_reaches_the_other_process_and_not_its_sender_again(two_processes):
    first, seen_here, second, elsewhere = two_processes
    # The second member's listener starts in a thread of its own: until it LISTENs, a NOTIFY
    # passes it by (the streams' catch-up poll covers that in a relay), so say it until heard.
    for _ in range(150):
        first.publish_wake(["phone-on-the-other-process"])
        if elsewhere.wait_for("phone-on-the-other-process", timeout=0.2):
            break
    assert "phone-on-the-other-process" in elsewhere.woken
    # PostgreSQL delivers notifications to each listener in commit order: once the first process
    # hears this later one, it has had its own before it, and must have skipped it.
    second.publish_wake(["phone-here"])
    assert seen_here.wait_for("phone-here")
    assert seen_here.woken == ["phone-here"]
    assert set(elsewhere.woken) == {"phone-on-the-other-process"}


def test_a_message_without_a_sender_tag_still_wakes(two_processes):
    """What a process of the previous version sends (``w:<ids>``) is still heeded."""
    first, seen_here, _, _ = two_processes
    first._handle("w:old-style-phone,another-phone")
    assert seen_here.woken == ["old-style-phone", "another-phone"]
