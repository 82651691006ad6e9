"""First run: the setup dialog asks for the relay and the account, and registers this computer."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from desktop_sender.app import SenderApp, SenderOptions
from desktop_sender.profile import SenderProfile
from shared.relay_client import DeviceInfo, RelayClient
from tests.sender.sender_helpers import WAIT_MS

pytestmark = pytest.mark.qt


@pytest.fixture
def first_run(qtbot, tmp_path):
    profile = SenderProfile("first", tmp_path / "sender", use_keyring=False)
    app = SenderApp(profile, SenderOptions(interactive=True, off_the_record=True, downloads_dir=str(tmp_path / "dl")))
    yield app
    app.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_first_run_creates_the_account_and_registers_this_computer(qtbot, relay, first_run):
    first_run.start()
    dialog = first_run.signing_in.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    username = f"new{uuid.uuid4().hex[:8]}"
    dialog.relay_edit.setText(relay.url)
    dialog.username_edit.setText(username)
    dialog.password_edit.setText("first run password")
    dialog.device_edit.setText("Office PC")
    dialog.create_check.setChecked(True)
    with qtbot.waitSignal(first_run.signed_in, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert first_run.window.account_label.text() == f"{username} · Office PC"
    settings = first_run.profile.settings
    assert (settings.relay_url, settings.username) == (relay.url, username)
    assert first_run.profile.tokens.load()

    phone = RelayClient(relay.url)
    phone.login(username, "first run password", DeviceInfo(f"p-{username}", "Phone", "Pixel", "android"))
    (computer,) = phone.devices()
    assert computer.id == settings.device_id and computer.name == "Office PC"


def test_wrong_password_is_explained_in_the_dialog(qtbot, relay, accounts, first_run):
    first_run.start()
    dialog = first_run.signing_in.dialog
    dialog.relay_edit.setText(relay.url)
    dialog.username_edit.setText(accounts.username)
    dialog.password_edit.setText("not the password")
    with qtbot.waitSignal(first_run.sign_in_failed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.error_label.isVisible()
    assert dialog.error_label.text()
    assert dialog.connect_button.isEnabled()  # the user can correct and try again
