"""Shared fixtures for the Kivy-free receiver tests."""

from __future__ import annotations

import threading
import time

import pytest


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Every thread a test starts (downloads, outbox, servers) must be gone when it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture
def rigs(tmp_path):
    """``rigs(**options)`` -> an inbox with fakes around it (tests/receiver/rig.py); stopped after the test."""
    from .rig import rig_factory

    make, close_all = rig_factory(tmp_path)
    yield make
    close_all()
