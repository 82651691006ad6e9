"""A package file on this computer, dropped on the window (or picked with Send a file), opens the
picker with the app's real name and version; a web page saved as .apk is refused with the reason;
Install now uploads the file to the relay and pushes the relay's copy (issue 14, item 5)."""

from __future__ import annotations

import hashlib

import pytest
import requests
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from relay_server.demo_catalog import build_package
from tests.sender.sender_helpers import WAIT_MS

pytestmark = pytest.mark.qt


def _drop(window, path) -> None:
    """Drop a file on the window, as a file manager would."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPointF(200, 200), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted(), "the window takes files dropped on it"
    event = QDropEvent(
        QPointF(200, 200), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)  # what Qt calls for a drop on the window (after dragEnterEvent accepted it)


def test_a_dropped_apk_shows_its_real_name_and_version(sender, tmp_path):
    apk = tmp_path / "download (3).apk"  # the file name says nothing
    apk.write_bytes(build_package("apk", "org.fdroid.fdroid", "F-Droid", "1.20.1", 1020001))

    _drop(sender.window, apk)

    picker = sender.picker
    sender.qtbot.waitUntil(lambda: picker.isVisible() and bool(picker.rows), timeout=WAIT_MS)
    assert picker.name_label.text() == "F-Droid"
    assert "Version 1.20.1" in picker.meta_label.text() and "127.0.0.1" not in picker.meta_label.text()
    assert picker.info.id == "org.fdroid.fdroid"


def test_a_web_page_saved_as_apk_is_refused_with_the_reason(sender, tmp_path):
    page = tmp_path / "notes-3.0.apk"
    page.write_text("<!doctype html><html><body>Sign in to download</body></html>")

    sender.window.files_chosen.emit([str(page)])

    picker = sender.picker
    sender.qtbot.waitUntil(picker.isVisible, timeout=WAIT_MS)
    sender.qtbot.waitUntil(lambda: "web page" in picker.status_label.text(), timeout=WAIT_MS)
    assert not picker.install_button.isEnabled()


def test_a_dropped_apk_the_store_never_saw_is_uploaded_and_pushed(sender, accounts, tmp_path):
    """An APK built on this computer: Install now uploads it to the relay (the picker says so)
    and pushes the relay's copy, which the phone downloads byte for byte."""
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=300_000))
    statuses = []
    buttons = []
    sender.app.upload_progressed.connect(lambda *_: statuses.append(sender.picker.status_label.text()))
    sender.app.upload_progressed.connect(lambda *_: buttons.append(sender.picker.install_button.text()))

    _drop(sender.window, apk)
    picker = sender.picker
    sender.qtbot.waitUntil(lambda: picker.isVisible() and bool(picker.rows), timeout=WAIT_MS)
    picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    (push,) = sender.send(picker.install_button)

    assert (push.app.id, push.app.name, push.app.version) == ("org.example.notes", "Notes", "3.0")
    sha = hashlib.sha256(apk.read_bytes()).hexdigest()
    assert push.package.url == f"/api/v1/packages/{sha}" and push.package.sha256 == sha
    assert statuses and statuses[0].startswith("Uploading 300 kB to your relay…"), statuses
    assert buttons and buttons[0].startswith("Uploading…"), buttons  # the button says what it is doing
    download = requests.get(accounts.phone.url(push.package.url), headers=accounts.phone._headers(), timeout=30)
    assert download.content == apk.read_bytes()


def test_a_file_gone_before_send_is_not_sent_and_the_picker_says_why(sender, accounts, tmp_path):
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(build_package("apk", "org.example.notes", "Notes", "3.0", 30))
    _drop(sender.window, apk)
    picker = sender.picker
    sender.qtbot.waitUntil(lambda: picker.isVisible() and bool(picker.rows), timeout=WAIT_MS)
    picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    apk.unlink()

    sender.qtbot.mouseClick(picker.install_button, Qt.MouseButton.LeftButton)
    sender.qtbot.waitUntil(picker.error_label.isVisible, timeout=WAIT_MS)

    assert picker.error_label.text() == "Not sent: app-debug.apk is no longer on this computer."
    assert sender.sent == []


def test_a_relay_that_refuses_the_upload_is_said_in_a_sentence(sender, accounts, tmp_path, monkeypatch):
    """What the relay answers to an upload (here its per-account quota; its limits have their own
    tests in tests/relay/test_uploads.py) reaches the picker as the relay's sentence."""
    from shared.relay_errors import RelayError

    said = (
        "your account keeps 4.9 GB of uploaded packages on the relay and may keep 5.4 GB; this one "
        "(3.2 MB) does not fit. Uploads are deleted once their pushes are done: try again after the "
        "phones installed them"
    )

    def refuse(path, fmt=None, progress=None):
        raise RelayError(507, "quota_exceeded", said)

    monkeypatch.setattr(sender.app.client, "upload_package", refuse)
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(build_package("apk", "org.example.notes", "Notes", "3.0", 30))
    _drop(sender.window, apk)
    picker = sender.picker
    sender.qtbot.waitUntil(lambda: picker.isVisible() and bool(picker.rows), timeout=WAIT_MS)
    picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)

    sender.qtbot.mouseClick(picker.install_button, Qt.MouseButton.LeftButton)
    sender.qtbot.waitUntil(picker.error_label.isVisible, timeout=WAIT_MS)

    assert picker.error_label.text() == f"Not sent: Y{said[1:]}."  # the relay's clause, as a sentence
    assert not picker.status_label.text().startswith("Uploading")  # the upload's status is gone
    assert picker.install_button.isEnabled()  # try again later
    assert sender.sent == []
