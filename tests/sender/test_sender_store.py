"""The sender against a real relay and its store pages: picker, pushes, modes, friends."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_sender.install_info import human_size
from shared.api_messages import CatalogEntry
from shared.messages import Push
from shared.protocol import PushMode
from shared.relay_client import RelayClient
from tests.sender.sender_helpers import WAIT_MS

pytestmark = pytest.mark.qt


def catalog_app(relay_url: str, formats: set[str]) -> CatalogEntry:
    """An app of the relay's demo catalog offered in exactly ``formats``."""
    for app in RelayClient(relay_url).apps():
        if {p.format for p in app.packages} == formats:
            return app
    raise AssertionError(f"the relay's demo catalog has no app offered as exactly {sorted(formats)}")


def download_selector(app_id: str, fmt: str) -> str:
    return f'a.download[data-app-id="{app_id}"][data-format="{fmt}"]'


def received(client: RelayClient, app_id: str) -> list[Push]:
    return [p for p in client.pushes("received") if p.app.id == app_id]


def test_store_download_opens_picker_with_page_info_and_devices(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk"})
    sender.open_picker_by_click(download_selector(app.id, "apk"))
    picker = sender.picker

    # Name, size and icon come from the page's JSON-LD, not from the file name.
    sender.qtbot.waitUntil(lambda: picker.name_label.text() == app.name, timeout=WAIT_MS)
    assert human_size(app.packages[0].size) in picker.meta_label.text()
    assert picker.info.icon_url and picker.info.icon_url.endswith(".png")
    assert picker.info.id == app.id
    sender.qtbot.waitUntil(lambda: picker.info.icon_url in sender.app.icons._pixmaps, timeout=WAIT_MS)

    rows = {r.device_id: r for r in picker.rows}
    assert set(rows) == set(accounts.ids.values())  # never this computer itself
    # Own devices first, then the friend's; one that cannot install the app comes last.
    assert [r.device_id for r in picker.rows][1:] == [accounts.ids["friend_phone"], accounts.ids["tablet"]]
    assert rows[accounts.ids["phone"]].compatible
    tablet = rows[accounts.ids["tablet"]]
    assert not tablet.compatible and not tablet.checkbox.isEnabled()
    assert "iOS" in tablet.note.text() and "apk" in tablet.note.text()
    # Nothing was saved to this computer.
    assert not sender.downloads.exists() or not any(sender.downloads.iterdir())


def test_install_now_on_two_devices_creates_two_pushes(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk", "ipa"})
    sender.open_picker_by_click(download_selector(app.id, "apk"))
    picker = sender.picker
    # The iPad can take the ipa the page also lists, so it is compatible though apk was clicked.
    for key in ("phone", "tablet"):
        row = picker.row_for(accounts.ids[key])
        assert row.compatible
        row.checkbox.setChecked(True)
    assert picker.install_button.isEnabled()
    pushes = sender.send(picker.install_button)

    assert sorted(p.device_id for p in pushes) == sorted([accounts.ids["phone"], accounts.ids["tablet"]])
    assert not picker.isVisible()
    assert "Pushes panel" in sender.window.notice.label.text()
    assert sender.panel.isVisible()
    for client, fmt in ((accounts.phone, "apk"), (accounts.tablet, "ipa")):
        got = received(client, app.id)
        assert len(got) == 1
        assert got[0].mode == PushMode.INSTALL_NOW
        assert got[0].format == fmt


def test_send_to_install_myself_creates_a_notify_push(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk"})
    sender.open_picker_by_click(download_selector(app.id, "apk"))
    sender.picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    sender.send(sender.picker.notify_button)
    got = received(accounts.phone, app.id)
    assert [p.mode for p in got] == [PushMode.NOTIFY]


def test_friend_device_cannot_get_install_now(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk"})
    sender.open_picker_by_click(download_selector(app.id, "apk"))
    picker = sender.picker
    picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    assert picker.install_button.isEnabled()
    picker.row_for(accounts.ids["friend_phone"]).checkbox.setChecked(True)
    assert not picker.install_button.isEnabled()
    assert "friend" in picker.install_button.toolTip().lower()
    assert picker.notify_button.isEnabled()
    with sender.qtbot.assertNotEmitted(picker.install_button.clicked):
        picker.install_button.click()  # disabled: nothing may happen
    assert sender.sent == []

    picker.row_for(accounts.ids["phone"]).checkbox.setChecked(False)
    sender.send(picker.notify_button)
    got = received(accounts.friend_phone, app.id)
    assert [p.mode for p in got] == [PushMode.NOTIFY]


def test_picker_closes_with_escape_and_click_outside(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk"})
    selector = download_selector(app.id, "apk")
    sender.open_picker_by_click(selector)
    picker = sender.picker
    assert picker.geometry() == sender.window.browser_area()  # covers the page, floats above it
    sender.qtbot.keyClick(picker, Qt.Key.Key_Escape)
    assert not picker.isVisible()

    sender.open_picker_by_click(selector)
    outside = QPoint(5, picker.height() - 5)
    assert not picker.card.geometry().contains(outside)
    sender.qtbot.mouseClick(picker, Qt.MouseButton.LeftButton, pos=outside)
    assert not picker.isVisible()
    assert sender.sent == []


def test_pushes_panel_follows_a_push_through_its_states(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk"})
    sender.open_picker_by_click(download_selector(app.id, "apk"))
    sender.picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    (push,) = sender.send(sender.picker.install_button)
    row = sender.panel.rows[push.id]
    qtbot = sender.qtbot

    def state_is(text):
        qtbot.waitUntil(lambda: row.state_label.text() == text, timeout=WAIT_MS)

    assert row.cancel_button.isVisibleTo(row)
    accounts.phone.report(push.id, "delivered")
    state_is("Delivered")
    accounts.phone.report(push.id, "waiting_for_wifi")
    state_is("Waiting for Wi-Fi")
    accounts.phone.report(push.id, "downloading", bytes_done=370, bytes_total=1000)
    state_is("Downloading 37%")
    assert row.progress.isVisibleTo(row) and row.progress.value() == 37
    accounts.phone.report(push.id, "verifying")
    accounts.phone.report(push.id, "installing")
    accounts.phone.report(push.id, "installed")
    state_is("Installed")
    assert not row.cancel_button.isVisibleTo(row)
    assert not row.progress.isVisibleTo(row)


def test_failed_state_shows_the_reason(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk"})
    sender.open_picker_by_click(download_selector(app.id, "apk"))
    sender.picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    (push,) = sender.send(sender.picker.notify_button)
    accounts.phone.report(push.id, "failed", detail="not enough space")
    row = sender.panel.rows[push.id]
    sender.qtbot.waitUntil(lambda: row.state_label.text() == "Failed: not enough space", timeout=WAIT_MS)


def test_queued_push_to_an_offline_device_can_be_cancelled(sender, relay, accounts):
    app = catalog_app(relay.url, {"apk", "ipa"})
    sender.open_picker_by_click(download_selector(app.id, "ipa"))
    sender.picker.row_for(accounts.ids["tablet"]).checkbox.setChecked(True)
    (push,) = sender.send(sender.picker.install_button)
    row = sender.panel.rows[push.id]
    assert row.state_label.text() == "Queued (device offline)"
    sender.qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    sender.qtbot.waitUntil(lambda: row.state_label.text() == "Cancelled", timeout=WAIT_MS)
    assert accounts.tablet.get_push(push.id).state == "cancelled"


def test_pushes_panel_lists_earlier_pushes_at_start(qtbot, relay, accounts, tmp_path):
    from tests.sender.sender_helpers import SenderHarness

    first = SenderHarness(qtbot, tmp_path / "one", relay.url, accounts.username, accounts.password)
    first.start()
    app = catalog_app(relay.url, {"apk"})
    first.open_picker_by_click(download_selector(app.id, "apk"))
    first.picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    (push,) = first.send(first.picker.notify_button)
    first.close()

    # The same profile directory again: the same device id, so the relay lists its pushes.
    again = SenderHarness(qtbot, tmp_path / "one", relay.url, accounts.username, accounts.password)
    try:
        with qtbot.waitSignal(again.app.pushes_loaded, timeout=WAIT_MS):
            again.app.start()
        assert push.id in again.panel.rows
    finally:
        again.close()
