"""Sizes, percentages and "how long ago" as the sender shows them, in the user's language.

The same conventions as ``shared/formatting.py`` (decimal units, one decimal under 100, "5 min
ago"), so English reads exactly as it does on the phone and the store; the numbers go through
``QLocale`` (the default locale ``install_translators`` set) and the words through Qt's
catalogs, plurals by ``%n`` (never glued fragments).
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication, QDate, QLocale

from shared.formatting import parse_when


def local_number(value: float, decimals: int = 0) -> str:
    """``3.5`` -> ``3.5`` (``3,5`` where the locale writes a decimal comma)."""
    locale = QLocale()
    return locale.toString(float(value), "f", decimals) if decimals else locale.toString(int(value))


def local_size(n: int | None) -> str:
    """``41234567`` -> ``41.2 MB``; "" when unknown."""
    if n is None:
        return ""
    if n < 1000:
        return QCoreApplication.translate("Formats", "{number} B", "bytes").format(number=local_number(n))
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{local_number(value, 1 if value < 100 else 0)} {unit}"
    raise AssertionError("unreachable")


def local_percent(percent: int) -> str:
    """``37`` -> ``37%`` in the locale's digits and sign."""
    locale = QLocale()
    return locale.toString(int(percent)) + locale.percent()


def local_when(iso: str | None, now: datetime | None = None) -> str:
    """An ISO 8601 time as ``just now``, ``5 min ago``, ``3 h ago`` or a date."""
    if not iso:
        return ""
    then = parse_when(iso)
    if then is None:
        return iso
    ago = ((now or datetime.now(UTC)) - then).total_seconds()
    if ago < 45:
        return QCoreApplication.translate("Formats", "just now")
    if ago < 3600:
        return QCoreApplication.translate("Formats", "%n min ago", "", int(ago // 60) or 1)
    if ago < 86400:
        return QCoreApplication.translate("Formats", "%n h ago", "", int(ago // 3600))
    day = then.astimezone().date()
    # The date's pattern is a translation too: "05 Nov 2026" in English, "2026年11月5日" in Chinese.
    pattern = QCoreApplication.translate("Formats", "dd MMM yyyy", "date of a push, QLocale pattern")
    return QLocale().toString(QDate(day.year, day.month, day.day), pattern)
