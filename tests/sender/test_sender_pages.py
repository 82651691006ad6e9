"""The sender on pages that are not the relay's store: plain links, other files, the JS API."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from relay_server.demo_catalog import build_package
from shared.protocol import PushMode
from tests.helpers.relay_process import RelayProcess
from tests.sender.sender_helpers import WAIT_MS, SenderHarness, make_accounts

pytestmark = pytest.mark.qt

APK_BYTES = build_package("apk", "org.example.notes", "Notes", "1.2", 12)  # a real apk: the sender checks


def page(body: str) -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Test</title></head><body>{body}</body></html>"


def test_a_normal_download_is_saved_with_progress(sender, site):
    site.write("notes.zip", b"zip content " * 1000)
    sender.load(site.write("files.html", page("<a id='f' href='notes.zip' download>notes</a>")))
    sender.click("#f")
    target = sender.downloads / "notes.zip"
    sender.qtbot.waitUntil(lambda: target.exists() and target.stat().st_size == 12000, timeout=WAIT_MS)
    sender.qtbot.waitUntil(lambda: "Saved notes.zip" in sender.window.downloads_indicator.label.text(), timeout=WAIT_MS)
    assert not sender.picker.isVisible()
    assert sender.sent == []


def test_a_package_link_without_json_ld_still_makes_a_push(sender, site, accounts):
    site.write("org.example.notes-1.2.apk", APK_BYTES)
    sender.load(site.write("plain.html", page("<a id='apk' href='org.example.notes-1.2.apk'>Get Notes</a>")))
    sender.open_picker_by_click("#apk")
    info = sender.picker.info
    assert (info.id, info.version, info.size) == ("org.example.notes", "1.2", len(APK_BYTES))
    assert [p.format for p in info.packages] == ["apk"]
    assert not (sender.downloads / "org.example.notes-1.2.apk").exists()

    sender.picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    sender.send(sender.picker.install_button)
    (push,) = [p for p in accounts.phone.pushes("received") if p.app.id == "org.example.notes"]
    assert push.mode == PushMode.INSTALL_NOW
    assert push.package.url == f"{site.url}/org.example.notes-1.2.apk"


def test_no_compatible_device_offers_a_normal_download(sender, site):
    site.write("legacy.xap", b"windows phone package")
    sender.load(site.write("wp.html", page("<a id='xap' href='legacy.xap'>Windows Phone app</a>")))
    sender.open_picker_by_click("#xap")
    picker = sender.picker
    assert all(not row.compatible for row in picker.rows)
    assert "None of your devices can install this app" in picker.status_label.text()
    assert not picker.install_button.isEnabled() and not picker.notify_button.isEnabled()
    assert picker.save_button.isEnabled() and picker.save_button.objectName() == "primary"
    sender.qtbot.mouseClick(picker.save_button, Qt.MouseButton.LeftButton)
    target = sender.downloads / "legacy.xap"
    sender.qtbot.waitUntil(lambda: target.exists() and target.read_bytes() == b"windows phone package", timeout=WAIT_MS)
    assert not picker.isVisible()


def test_pages_can_start_a_push_with_the_javascript_api(sender, site, accounts):
    site.write("chat.apk", APK_BYTES)
    script = """
      document.getElementById('send').onclick = function () {
        appbeam.push({id: 'org.example.chat', name: 'Example Chat', version: '2.0',
                      packages: [{format: 'apk', url: location.origin + '/chat.apk'}]});
      };
    """
    sender.load(site.write("api.html", page(f"<button id='send'>Send to phone</button><script>{script}</script>")))
    sender.qtbot.waitUntil(lambda: sender.js("typeof window.appbeam") == "object", timeout=WAIT_MS)
    sender.open_picker_by_click("#send")
    assert sender.picker.name_label.text() == "Example Chat"
    sender.picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    sender.send(sender.picker.notify_button)
    assert [p.mode for p in accounts.phone.pushes("received") if p.app.id == "org.example.chat"] == ["notify"]


def test_send_to_device_on_a_link_uses_the_page_json_ld(sender, relay, accounts):
    link = sender.js("document.querySelector('a.download').href")
    app_id = sender.js("document.querySelector('a.download').dataset.appId")
    (action,) = sender.window.browser.link_menu_actions(link, "Free download")
    assert action.text() == "Send to device..."
    action.trigger()
    sender.qtbot.waitUntil(lambda: sender.picker.isVisible() and bool(sender.picker.rows), timeout=WAIT_MS)
    assert sender.picker.info.id == app_id
    assert sender.picker.info.icon_url  # from the JSON-LD, a link alone has no icon


def test_relay_down_gives_a_message_not_a_frozen_window(qtbot, tmp_path, site):
    relay = RelayProcess(tmp_path / "relay").start()
    try:
        accounts = make_accounts(relay.url)
        harness = SenderHarness(qtbot, tmp_path / "sender", relay.url, accounts.username, accounts.password)
        harness.start()
        accounts.close()
    finally:
        relay.stop()
    try:
        site.write("app.apk", APK_BYTES)
        harness.load(site.write("down.html", page("<a id='apk' href='app.apk'>app</a>")))
        harness.click("#apk")
        picker = harness.picker
        qtbot.waitUntil(lambda: picker.isVisible() and picker.retry_button.isVisible(), timeout=WAIT_MS)
        assert "Can't reach the relay at 127.0.0.1:" in picker.status_label.text()
        assert not picker.install_button.isEnabled()
        # The window still reacts: Esc closes the picker.
        qtbot.keyClick(picker, Qt.Key.Key_Escape)
        assert not picker.isVisible()
        qtbot.waitUntil(lambda: "Reconnecting" in harness.panel.connection_label.text(), timeout=WAIT_MS)
    finally:
        harness.close()


def test_send_to_device_on_a_link_that_is_no_package_says_so(sender, site):
    sender.load(site.write("about.html", page("<a href='readme.html'>readme</a>")))
    (action,) = sender.window.browser.link_menu_actions(f"{site.url}/readme.html", "readme")
    action.trigger()
    sender.qtbot.waitUntil(lambda: "not an app package" in sender.picker.status_label.text(), timeout=WAIT_MS)
    assert sender.picker.rows == []
    assert not sender.picker.install_button.isEnabled() and not sender.picker.notify_button.isEnabled()
