"""Environment Qt WebEngine reads once, before it is imported.

Chromium refuses to run as root with its sandbox, and on a machine without a screen or
GPU it needs the offscreen platform and software rendering. These must be in the
environment before the first PySide6 import, so this module imports nothing from Qt.
"""

from __future__ import annotations

import os
import sys


def prepare_qt_environment(headless: bool = False) -> None:
    """Set the environment variables Qt WebEngine needs; keep any the user already set."""
    if headless or (
        sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if headless or _running_as_root():
        # Chromium's sandbox cannot start as root (containers, CI).
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--disable-gpu" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --disable-gpu").strip()


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
