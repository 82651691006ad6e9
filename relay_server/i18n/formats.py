"""Sizes, counts and dates on the store page, in the page's language through Babel's CLDR data.

The same convention as ``shared/formatting.py`` (decimal units, 1 MB = 1,000,000 bytes, one
decimal under 100), so a size reads the same on the store, in the sender and on the phone;
the digits, separators and unit names are the locale's.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date
from babel.numbers import format_decimal
from babel.units import format_unit

from relay_server.i18n import translations

_UNITS = ("digital-kilobyte", "digital-megabyte", "digital-gigabyte", "digital-terabyte")


def number(value: int, lang: str) -> str:
    """``12345`` -> ``12,345``."""
    return format_decimal(value, locale=lang)


def size(n: int | None, lang: str) -> str:
    """``41234567`` -> ``41.2 MB``; "" when unknown."""
    if n is None:
        return ""
    if n < 1000:
        # CLDR's short byte is "byte" in English, "B" everywhere else on this page: a message of ours.
        return translations(lang).gettext("%(number)s B") % {"number": number(n, lang)}
    value = float(n)
    for unit in _UNITS:
        value /= 1000
        if value < 1000 or unit == _UNITS[-1]:
            pattern = "#,##0.0" if value < 100 else "#,##0"
            return format_unit(value, unit, length="short", format=pattern, locale=lang)
    raise AssertionError("unreachable")


def day(when: date | datetime | None, lang: str) -> str:
    """``2026-11-30`` -> ``Nov 30, 2026`` / ``2026年11月30日``; "" when unknown."""
    if when is None:
        return ""
    return format_date(when, format="medium", locale=lang)
