"""End to end: the relay and the receivers as real processes, the sender's real window."""

from __future__ import annotations

import pytest

from tests.helpers.qt import ignore_qt_noise


def pytest_configure(config: pytest.Config) -> None:
    ignore_qt_noise(config)


@pytest.fixture(scope="session")
def qapp_args():
    return ["appbeam-e2e-tests"]
