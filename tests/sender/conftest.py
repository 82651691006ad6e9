"""Fixtures for the desktop sender's tests: Qt WebEngine offscreen, a real relay, accounts.

The environment must be set before anything imports Qt (the language too: C, English), and QtWebEngineWidgets must be
imported before pytest-qt creates the QApplication; both happen here, at import time.
"""

from __future__ import annotations

import os

import pytest

# The sender follows the system's language: pin it, so the suite reads the same on a machine set
# to Chinese (or German) as anywhere. A test that wants Chinese asks for it with --lang zh_CN.
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"

from tests.helpers.qt import ignore_qt_noise  # noqa: E402,F401  (sets up Qt before anything imports it)
from tests.helpers.relay_process import RelayProcess  # noqa: E402
from tests.sender.sender_helpers import Accounts, SenderHarness, StaticSite, make_accounts  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    ignore_qt_noise(config)


@pytest.fixture(scope="session")
def qapp_args():
    return ["appbeam-sender-tests"]


@pytest.fixture(scope="session")
def relay(tmp_path_factory):
    """One real relay subprocess for the session (tests use fresh accounts each)."""
    process = RelayProcess(tmp_path_factory.mktemp("relay"))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def accounts(relay) -> Accounts:
    """A fresh account with an online phone, an offline tablet, and a friend with a phone."""
    accounts = make_accounts(relay.url)
    yield accounts
    accounts.close()


@pytest.fixture
def site(tmp_path):
    """A local web site (127.0.0.1) for pages that are not the relay's store."""
    site = StaticSite(tmp_path / "site")
    site.start()
    yield site
    site.stop()


@pytest.fixture
def sender(qtbot, relay, accounts, tmp_path):
    """A signed-in sender showing the relay's store."""
    harness = SenderHarness(qtbot, tmp_path / "sender", relay.url, accounts.username, accounts.password)
    harness.start()
    yield harness
    harness.close()
