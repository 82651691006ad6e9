"""Comparing app versions, to tell whether a pushed app is already installed [0073, 0080]."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\d+|[A-Za-z]+")


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as version string ``a`` is older than, equal to or newer than ``b``.

    Numbers compare as numbers (``3.10`` > ``3.9``); a letter part after the common prefix
    marks a pre-release (``2.0rc1`` < ``2.0`` < ``2.0.1``); letters compare alphabetically.
    """
    ta, tb = _TOKEN.findall(a or ""), _TOKEN.findall(b or "")
    for x, y in zip(ta, tb):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return int(int(x) > int(y)) - int(int(x) < int(y))
        if x.isdigit() != y.isdigit():
            return 1 if x.isdigit() else -1  # 2.0.1 > 2.0rc1
        return int(x.lower() > y.lower()) - int(x.lower() < y.lower())
    if len(ta) == len(tb):
        return 0
    longer, sign = (ta, 1) if len(ta) > len(tb) else (tb, -1)
    extra = longer[min(len(ta), len(tb))]
    if extra.isdigit():
        # 1.0.1 is newer than 1.0, but 1.0.0 equals 1.0
        rest = longer[min(len(ta), len(tb)) :]
        return 0 if all(t.isdigit() and int(t) == 0 for t in rest) else sign
    return -sign  # 1.0beta is older than 1.0


def is_same_or_newer(
    installed_version: str | None,
    installed_code: int | None,
    pushed_version: str | None,
    pushed_code: int | None,
) -> bool:
    """True when the installed app is at the pushed version or newer.

    Version codes win when both sides have one (they are what the platform compares);
    otherwise the version strings are compared; with neither, the app counts as installed.
    """
    if installed_code is not None and pushed_code is not None:
        return installed_code >= pushed_code
    if installed_version and pushed_version:
        return compare_versions(installed_version, pushed_version) >= 0
    # the push does not say which version: any installed copy will do
    return pushed_version is None and pushed_code is None
