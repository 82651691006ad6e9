"""How often a download's progress is told: to the relay (and the disk) at most twice a second,
to the screens ten times a second, and always at the last byte.

A download calls back for every chunk; reporting each one would flood the outbox and the
relay, and redrawing each one would keep the UI thread busy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.formatting import ProgressMeter

#: How often progress goes to the relay (and to disk): at most twice a second.
REPORT_INTERVAL = 0.5
#: How often the screens hear about progress.
UI_INTERVAL = 0.1


@dataclass(frozen=True)
class ProgressNews:
    """Who should hear about one progress callback."""

    relay: bool
    screens: bool


class ProgressThrottle:
    """Per push: a speed meter and when the relay and the screens last heard."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._meters: dict[str, ProgressMeter] = {}
        self._last_report: dict[str, float] = {}
        self._last_ui: dict[str, float] = {}

    def meter(self, push_id: str) -> ProgressMeter:
        return self._meters.setdefault(push_id, ProgressMeter())

    def reported(self, push_id: str) -> None:
        """The relay just heard about this push (a state change or the end of a wait)."""
        self._last_report[push_id] = self._clock()

    def due(self, push_id: str, done: int, total: int | None) -> ProgressNews:
        """Who is due to hear about ``done`` bytes now; marks them as told."""
        now = self._clock()
        relay = now - self._last_report.get(push_id, 0.0) >= REPORT_INTERVAL or done == total
        if relay:
            self._last_report[push_id] = now
        screens = relay or now - self._last_ui.get(push_id, 0.0) >= UI_INTERVAL
        if screens:
            self._last_ui[push_id] = now
        return ProgressNews(relay, screens)
