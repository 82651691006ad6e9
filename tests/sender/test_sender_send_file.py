"""A package file on this computer, dropped on the window (or picked with Send a file), opens the
picker with the app's real name and version; a web page saved as .apk is refused with the reason
(issue 14, item 5)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from relay_server.demo_catalog import build_package
from tests.sender.sender_helpers import WAIT_MS

pytestmark = pytest.mark.qt


def _drop(window, path) -> None:
    """Drop a file on the window, as a file manager would."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPointF(200, 200), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted(), "the window takes files dropped on it"
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
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
