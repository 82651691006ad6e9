"""Numbers in words for every screen (sender, receiver, store): sizes, speeds, time left, how
long ago. One convention everywhere: decimal (SI) units, 1 MB = 1,000,000 bytes, as phones
show storage; no toolkit imports.

The ``human_*`` functions write English, as the sender and the store have always shown it.
The ``local_*`` ones say the same in a language (a Babel locale name: ``en``, ``zh_CN``): in
English exactly the ``human_*`` words (one English on every screen), in any other language
CLDR's rules for numbers, units and relative times (``41.2 MB``, ``2.2 MB/秒``, ``5分钟前``,
``2026年11月5日``), never glued translated words. The receiver uses them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


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


def _english(locale: str) -> bool:
    return locale.replace("-", "_").split("_")[0].lower() in ("en", "c", "posix", "")


def _unit(value: float, unit: str, locale: str, decimals: int = 0) -> str:
    from babel.units import format_unit

    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return format_unit(value, unit, length="short", format=pattern, locale=locale)


def _si(n: float) -> tuple[float, str, int]:
    """``41234567`` -> ``(41.23, "megabyte", 1)``: the value, its unit, and its decimals."""
    if n < 1000:
        return float(n), "byte", 0
    value = float(n)
    for unit in ("kilobyte", "megabyte", "gigabyte", "terabyte"):
        value /= 1000
        if value < 1000 or unit == "terabyte":
            return value, unit, 1 if value < 100 else 0
    raise AssertionError("unreachable")


def local_size(n: int | None, locale: str) -> str:
    """``41234567`` -> ``41.2 MB`` in ``locale``'s digits and unit words; "" when unknown."""
    if n is None or _english(locale):
        return human_size(n)
    value, unit, decimals = _si(n)
    return _unit(value, f"digital-{unit}", locale, decimals)


def local_speed(bytes_per_second: float | None, locale: str) -> str:
    """``2150000`` -> ``2.2 MB/s`` (``2.2 MB/秒``); "" when unknown."""
    if not bytes_per_second or _english(locale):
        return human_speed(bytes_per_second)
    from babel.units import format_compound_unit

    value, unit, decimals = _si(int(bytes_per_second))
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    found = format_compound_unit(
        value, f"digital-{unit}", denominator_unit="duration-second", length="short", format=pattern, locale=locale
    )
    return found or ""


def local_duration(seconds: float | None, locale: str) -> str:
    """``125`` -> ``2 min 5 s`` (``2分钟5秒``): time left, at most two units; "" when unknown."""
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if _english(locale):
        return human_eta(seconds).removesuffix(" left")
    from babel.lists import format_list

    if seconds < 60:
        parts = [_unit(seconds, "duration-second", locale)]
    elif seconds < 3600:
        parts = [_unit(seconds // 60, "duration-minute", locale), _unit(seconds % 60, "duration-second", locale)]
    else:
        parts = [
            _unit(seconds // 3600, "duration-hour", locale),
            _unit(seconds % 3600 // 60, "duration-minute", locale),
        ]
    return format_list(parts, style="unit-short", locale=locale)


def local_when(iso: str | None, locale: str, *, just_now: str, now: datetime | None = None) -> str:
    """An ISO 8601 time as ``just_now`` (under 45 s: the caller's words, CLDR has none), ``5 min
    ago`` (``5分钟前``), ``3 h ago`` or the date (``05 Nov 2026``, ``2026年11月5日``)."""
    if not iso or _english(locale):
        return human_when(iso, now)
    then = parse_when(iso)
    if then is None:
        return iso
    from babel.dates import format_date, format_timedelta

    ago = ((now or datetime.now(UTC)) - then).total_seconds()
    if ago < 45:
        return just_now
    if ago < 86400:
        # whole minutes or hours gone by, as the English "5 min ago" counts them (not rounded up)
        step = 3600 if ago >= 3600 else 60
        delta = timedelta(seconds=-max(60, ago // step * step))
        return format_timedelta(
            delta,
            granularity="hour" if step == 3600 else "minute",
            threshold=100,
            add_direction=True,
            format="short",
            locale=locale,
        )
    return format_date(then.astimezone().date(), "medium", locale=locale)


def local_megabytes(n: int | None, locale: str) -> str | None:
    """For the mobile-data question: ``41.2 MB``, always in megabytes; None when unknown (the
    caller says so in a sentence of its own)."""
    if n is None:
        return None
    if _english(locale):
        return megabytes(n)
    return _unit(n / 1_000_000, "digital-megabyte", locale, 1)


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
