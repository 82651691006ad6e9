"""Before installing: is the downloaded file the package that was sent, and a package at all?

Three checks, cheapest first, each ending in its own :class:`~mobile_receiver.failures.Failure`:

1. the SHA-256 computed while downloading equals the one the push names (signed by the sender);
2. this device installs the package's format;
3. the file really is a package of that format (:func:`check_package`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from mobile_receiver import failures
from mobile_receiver.failures import Failure
from shared.package_check import NotAPackage, inspect_package
from shared.protocol import PLATFORM_LABELS, Platform, formats_for

log = logging.getLogger(__name__)


def check_package(path: Path, fmt: str) -> str | None:
    """Why the file at ``path`` is not a valid ``fmt`` package, as a sentence; None when it is.

    The shared package inspector (``shared.package_check``: ZIP containers with their required
    entries, ``ar`` archives, SIS headers, web pages and cut-short files recognised) decides;
    its refusal is already a sentence a person can act on.
    """
    try:
        inspect_package(path, fmt)
    except NotAPackage as exc:
        log.warning("%s is not a valid %s package: %s (%s)", path, fmt, exc, exc.reason)
        return str(exc)
    return None


def checksum_problem(actual_sha256: str | None, expected_sha256: str | None) -> Failure | None:
    """A checksum mismatch, or None (also when the push names no SHA-256: nothing to compare)."""
    if expected_sha256 and actual_sha256 != expected_sha256.lower():
        return failures.checksum_mismatch()
    return None


def package_problem(path: Path, fmt: str, device_platform: str) -> Failure | None:
    """The format this device cannot install, or a file that is not a package; None when fine."""
    if fmt not in formats_for(device_platform):
        return failures.wrong_format(fmt, platform_label(device_platform))
    why = check_package(path, fmt)
    if why:
        return failures.not_a_package(why)
    return None


def platform_label(device_platform: str) -> str:
    try:
        return PLATFORM_LABELS[Platform(device_platform)]
    except ValueError:
        return device_platform
