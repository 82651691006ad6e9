"""Shared test set-up: every test gets its own data folders; nothing touches the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    """Point every part's default data directory into the test's temporary folder."""
    monkeypatch.setenv("APPBEAM_HOME", str(tmp_path / "appbeam-home"))
