"""Qt WebEngine for tests on a machine without a screen (``../shared/guides/headless-gui.md``).

Import this module from a conftest before anything imports Qt: it sets the environment
and imports QtWebEngineWidgets before pytest-qt creates the QApplication.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"  # Chromium refuses to run as root with it
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
os.environ.setdefault("QT_LOGGING_RULES", "qt.webenginecontext.debug=false")

from PySide6 import QtWebEngineWidgets  # noqa: E402,F401  (must precede the QApplication)

#: Harmless noise of Chromium on a machine without GPU, display or D-Bus (see the guide).
QT_NOISE = [
    "Failed to create RHI",
    "QRhiGles2",
    "Failed to connect to the bus",
    "GPUInfo",
    "propagateSizeHints",
    "Vulkan",
    "GBM",
    "Sandboxing disabled",
    "Release of profile requested",
    "js:",
]


def ignore_qt_noise(config) -> None:
    """Tell pytest-qt to ignore the harmless lines above (call from ``pytest_configure``)."""
    for line in QT_NOISE:
        config.addinivalue_line("qt_log_ignore", line)
