"""When something goes wrong the sender says so in a sentence, keeps what was typed, and its
rows never grow past the panel (issue 12, items 1, 4 and 5)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from appbeam_devtools.local_relay import free_port
from desktop_sender.app import SenderApp, SenderOptions
from desktop_sender.install_info import PackageLink
from desktop_sender.profile import SenderProfile
from desktop_sender.push_board import PushBoard
from shared.messages import InstallInfo, PackageRef
from tests.helpers.messages import listed_push
from tests.sender.sender_helpers import WAIT_MS

pytestmark = pytest.mark.qt

TECHNICAL = ("HTTPConnectionPool", "Errno", "Traceback", "urllib3", "object at 0x", "Max retries")


@pytest.fixture
def make_sender(qtbot, tmp_path):
    made = []

    def make(**options) -> SenderApp:
        profile = SenderProfile(f"s{len(made)}", tmp_path / f"sender{len(made)}", use_keyring=False)
        app = SenderApp(profile, SenderOptions(off_the_record=True, downloads_dir=str(tmp_path / "dl"), **options))
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_a_wrong_password_on_the_command_line_opens_the_dialog_with_the_reason(qtbot, relay, accounts, make_sender):
    sender = make_sender(relay_url=relay.url, username=accounts.username, password="not the password")

    with qtbot.waitSignal(sender.sign_in_failed, timeout=WAIT_MS) as failed:
        sender.start()

    assert failed.args == ["Wrong username or password."]
    dialog = sender.signing_in.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    assert dialog.error_label.text() == "Wrong username or password."
    assert dialog.username_edit.text() == accounts.username  # what was typed is kept
    assert dialog.relay_edit.text() == relay.url
    assert sender.window.account_label.toolTip() == "Wrong username or password."


def test_a_relay_that_is_not_running_is_a_sentence_with_its_address(qtbot, make_sender):
    address = f"http://127.0.0.1:{free_port()}"
    sender = make_sender(relay_url=address, username="anna", password="correct horse")

    with qtbot.waitSignal(sender.sign_in_failed, timeout=WAIT_MS) as failed:
        sender.start()

    text = failed.args[0]
    assert text.startswith(f"Can't reach the relay at {address.removeprefix('http://')}")
    assert not any(word in text for word in TECHNICAL)
    qtbot.waitUntil(
        lambda: sender.signing_in.dialog is not None and sender.signing_in.dialog.isVisible(), timeout=WAIT_MS
    )
    assert sender.signing_in.dialog.error_label.text() == text


def test_long_reasons_wrap_inside_the_pushes_panel_at_a_small_window(qtbot, make_sender):
    sender = make_sender(interactive=False)
    sender.window.resize(900, 600)
    sender.window.show()
    sender.window.show_pushes()
    board = PushBoard()
    long_reason = (
        "The package server https://downloads.example.com/releases/2026/very-long-folder-name/"
        "org.example.an-app-with-a-long-name-3.14.159.apk answered HTTP 503 and the phone will try again"
    )
    board.add_pushes(
        [
            listed_push(
                "p_long",
                app={"id": "org.example.long", "name": "An app with a rather long name indeed"},
                device_id="phone",
                device_name="Anna's Pixel 8 Pro with a long name",
                state="failed",
                detail=long_reason,
            )
        ]
    )
    panel = sender.window.pushes_panel
    panel.username = "anna"
    panel.set_entries(board.entries())
    row = panel.rows["p_long"]
    qtbot.waitUntil(row.isVisible, timeout=WAIT_MS)
    QCoreApplication.processEvents()

    viewport = panel.widget().width()
    assert row.width() <= viewport, (row.width(), viewport)
    assert row.state_label.height() > row.state_label.fontMetrics().height()  # it wrapped onto lines
    assert row.state_label.text().replace("\u200b", "").endswith("the phone will try again")


def test_the_picker_shows_the_size_of_the_format_that_was_clicked(qtbot, make_sender):
    sender = make_sender(interactive=False)
    sender.window.show()
    info = InstallInfo(
        id="im.vector.app",
        name="Element",
        version="1.6.0",
        size=45_400_000,
        packages=(
            PackageRef(format="ipa", url="http://store.test/element.ipa", size=45_400_000),
            PackageRef(format="apk", url="http://store.test/element.apk", size=23_500_000),
        ),
    )
    link = PackageLink(
        url="http://store.test/element.apk",
        file_name="element.apk",
        mime_type="application/vnd.android.package-archive",
        page_url="http://store.test/",
    )

    sender.window.show_picker()
    sender.window.picker.open_for(info, link)

    meta = sender.window.picker.meta_label.text()
    assert "23.5 MB" in meta and "45.4 MB" not in meta
