"""A background thread that tells the relay something: at once when woken, again after a
growing pause while it cannot.

The report outbox (``reporter.py``) and the installed list (``installed_report.py``) both wait
to be woken (a new report, a reconnect, an install), try, and while the relay cannot be reached
try again after a pause that doubles up to a cap, or at once when woken again. One loop serves
both, so a fix to one (a failing attempt must never end the thread) holds for the other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class WakeLoop:
    """Runs ``attempt`` (True: done until woken again) on a daemon thread named ``name``."""

    def __init__(
        self,
        attempt: Callable[[], bool],
        *,
        name: str,
        backoff_initial: float,
        backoff_max: float,
        resting: Callable[[], bool] = lambda: False,
    ) -> None:
        """``resting()``: nothing to try until woken (the relay signed this device out)."""
        self.attempt = attempt
        self.name = name
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.resting = resting
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        """``stop()`` was called: an attempt under way should end soon."""
        return self._stop.is_set()

    def wake(self) -> None:
        """Try now (or as soon as the attempt under way ends)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        delay = self.backoff_initial
        while not self._stop.is_set():
            self._wake.clear()
            if self.resting():
                self._wake.wait()
                continue
            try:
                done = self.attempt()
            except Exception:  # noqa: BLE001 - never let the thread die: try again later
                log.exception("%s failed", self.name)
                done = False
            if done:
                delay = self.backoff_initial
                self._wake.wait()
            else:  # the relay cannot be reached: again after a growing pause, or at once when woken
                self._wake.wait(delay)
                delay = min(delay * 2, self.backoff_max)
