"""The extension suite: Debian's Chromium with the unpacked extension, a real relay and a real
headless receiver, as in tests/e2e. Skipped with a note where Chromium or Playwright is missing
(``.ci/run`` installs both)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.extension.browser import CHROMIUM


def chromium_missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if shutil.which("node") is None:
        return "node is not installed"
    return None


def pytest_collection_modifyitems(config, items):
    reason = chromium_missing()
    if reason:
        for item in items:
            if "browser" in item.fixturenames:
                item.add_marker(pytest.mark.skip(reason=reason))
