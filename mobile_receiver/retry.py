"""When to try a download again: capped exponential backoff with full jitter (tenacity), and a
wait that can be cut short.

A download stopped by a passing cause (the relay restarting, a server answering 503, no
network) is tried again by itself, for as long as it takes: the waits grow from ``initial``
and never exceed ``cap``; each is drawn at random below its bound, so that phones which lost
the same relay at the same moment do not all come back in step. The wait ends early when
the receiver learns that trying again is worth it (the relay's stream is back, the platform
says the network changed): :meth:`Wake.wake`.
"""

from __future__ import annotations

import threading

from tenacity import wait_random_exponential

#: Download retries: first waits are short (a dropped connection), later ones at most this.
DOWNLOAD_BACKOFF_INITIAL = 0.5
DOWNLOAD_BACKOFF_CAP = 10.0


def backoff(initial: float = DOWNLOAD_BACKOFF_INITIAL, cap: float = DOWNLOAD_BACKOFF_CAP) -> wait_random_exponential:
    """A tenacity wait: attempt n waits a random time in [0, min(cap, initial * 2**(n-1))]."""
    return wait_random_exponential(multiplier=initial, max=cap)


class Stopped(Exception):
    """The wait was ended by :meth:`Wake.stop` (a pause or a cancel)."""


class Wake:
    """A sleep that :meth:`wake` cuts short and :meth:`stop` ends for good; thread-safe.

    A wake that comes while nobody sleeps is kept for the next sleep (it returns at once):
    news that the network is back must not be lost because it arrived mid-attempt.
    """

    def __init__(self) -> None:
        self._woken = threading.Event()
        self._stopped = threading.Event()

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``; raise :class:`Stopped` if stopped before or during the wait."""
        if self._stopped.is_set():
            raise Stopped()
        self._woken.wait(seconds)
        self._woken.clear()
        if self._stopped.is_set():
            raise Stopped()

    def wake(self) -> None:
        """End the current (or next) wait now."""
        self._woken.set()

    def stop(self) -> None:
        self._stopped.set()
        self._woken.set()

    def reset(self) -> None:
        """Forget an earlier stop (a download run again after a pause)."""
        self._stopped.clear()
        self._woken.clear()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()
