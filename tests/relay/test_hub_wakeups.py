"""A stream's wake-up is never lost, however late the waiting stream gets to run again."""

from __future__ import annotations

import threading

from relay_server.hub import Hub


class _WakeAfterTimeout(threading.Event):
    """Times out, and a wake-up lands before the waiter runs again: gevent's Event then
    answers False although the flag is set (it reports whether the wait succeeded)."""

    def wait(self, timeout=None):
        super().wait(timeout)
        self.set()
        return False


def test_a_wake_up_landing_just_after_the_keepalive_timeout_is_kept():
    hub = Hub()
    sub = hub.subscribe("phone")
    sub._wake = _WakeAfterTimeout()

    assert sub.wait(0.01) is True, "the stream would send a keepalive and sleep with a push waiting"


def test_wake_then_wait_returns_at_once_and_resets():
    hub = Hub()
    sub = hub.subscribe("phone")
    hub.notify(["phone"])
    assert sub.wait(5) is True
    assert sub.wait(0.01) is False
