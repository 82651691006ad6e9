"""Numbers in words for every screen (sender, receiver, store): sizes, speeds, time left, how
long ago. One convention everywhere: decimal (SI) units, 1 MB = 1,000,000 bytes, as phones
show storage; no toolkit imports."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime


def human_size(n: int | None) -> str:
    """``41234567`` -> ``41.2 MB`` (decimal units, as phones show storage); "" when unknown."""
    if n is None:
        return ""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def human_speed(bytes_per_second: float | None) -> str:
    if not bytes_per_second:
        return ""
    return human_size(int(bytes_per_second)) + "/s"


def human_eta(seconds: float | None) -> str:
    """``125`` -> ``2 min 5 s left``."""
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s left"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s left"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min left"


def parse_when(iso: str) -> datetime | None:
    """An ISO 8601 time as the relay writes it (``Z`` or an offset; none means UTC), or None."""
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return then if then.tzinfo is not None else then.replace(tzinfo=UTC)


def human_when(iso: str | None, now: datetime | None = None) -> str:
    """An ISO 8601 time as ``just now``, ``5 min ago``, ``3 h ago`` or a date."""
    if not iso:
        return ""
    then = parse_when(iso)
    if then is None:
        return iso
    now = now or datetime.now(UTC)
    ago = (now - then).total_seconds()
    if ago < 45:
        return "just now"
    if ago < 3600:
        return f"{int(ago // 60) or 1} min ago"
    if ago < 86400:
        return f"{int(ago // 3600)} h ago"
    return then.astimezone().strftime("%d %b %Y")


def megabytes(n: int | None) -> str:
    """For the metered-data question: ``41.2 MB`` of mobile data."""
    if n is None:
        return "an unknown amount of"
    return f"{n / 1_000_000:.1f} MB"


class ProgressMeter:
    """Download speed over the last few seconds, and the time left at that speed."""

    def __init__(self, window: float = 3.0, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.clock = clock
        self.samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self.samples.clear()

    def add(self, bytes_done: int) -> None:
        now = self.clock()
        if self.samples and bytes_done < self.samples[-1][1]:
            self.samples.clear()  # restarted from zero
        self.samples.append((now, bytes_done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()

    @property
    def speed(self) -> float | None:
        """Bytes per second, or None until there is enough to tell."""
        if len(self.samples) < 2:
            return None
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        if t1 - t0 < 0.2:
            return None
        return (b1 - b0) / (t1 - t0)

    def eta(self, bytes_total: int | None) -> float | None:
        speed = self.speed
        if not speed or bytes_total is None or not self.samples:
            return None
        return max(0.0, (bytes_total - self.samples[-1][1]) / speed)
