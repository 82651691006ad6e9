"""Waiting for an outcome rather than for time: poll a condition with a deadline."""

from __future__ import annotations

import time


def wait_for(condition, timeout: float, what: str):
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"gave up after {timeout} s waiting for {what}")
