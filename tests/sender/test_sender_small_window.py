"""The sender in a small window (900x600): what a new user sees of the picker, the address bar
and the Pushes panel, without a relay (the widgets are given what the relay would say)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QPoint, QRect, Qt, QUrl
from PySide6.QtWebEngineCore import QWebEngineProfile
from PySide6.QtWidgets import QApplication, QWidget

from desktop_sender.install_info import PackageLink
from desktop_sender.main_window import MainWindow
from desktop_sender.picker import DevicePicker, DeviceRow
from desktop_sender.push_board import PushEntry
from desktop_sender.pushes_panel import PushesPanel
from desktop_sender.style import STYLE_SHEET
from shared.api_messages import Device
from shared.messages import InstallInfo, PackageRef
from shared.protocol import PushMode, PushState

pytestmark = pytest.mark.qt

#: The browser's part of a 900x600 window with the Pushes panel open (measured in the app).
SMALL_BROWSER = QRect(0, 0, 546, 528)
WAIT_MS = 10_000
RELAY_DOWN = "Can't reach the relay at 127.0.0.1:42167: nothing answers there. Is it running?"


def device(id: str, name: str, platform: str, online: bool = True, friend: bool = False, **kw) -> Device:
    compatible = kw.pop("compatible", True)
    return Device(
        id=id,
        name=name,
        model=kw.pop("model", name),
        platform=platform,
        owner="anna" if friend else "ben",
        relation="friend" if friend else "self",
        online=online,
        last_seen=None if online else "2026-01-01T10:00:00+00:00",
        formats=[],
        public_key=None,
        fingerprint=None,
        compatible=compatible,
        reason=None if compatible else "Symbian installs sis, sisx; this app comes as apk, ipa",
    )


BENS_DEVICES = [
    device("ben-pixel", "Ben's Pixel 8", "android", model="Pixel 8"),
    device("ben-ipad", "Ben's iPad", "ios", online=False, model="iPad Air"),
    device("ben-n8", "Old Nokia", "symbian", online=False, compatible=False, model="Nokia N8"),
    device("anna-galaxy", "Anna's Galaxy", "android", friend=True, model="Galaxy S23"),
]
ELEMENT = InstallInfo(
    id="im.vector.app",
    name="Element",
    version="1.6.24",
    runtime="Android 5.0+, iOS 16+",
    packages=(
        PackageRef(format="apk", url="http://127.0.0.1:42167/files/a/element.apk", size=24_600_000),
        PackageRef(format="ipa", url="http://127.0.0.1:42167/files/b/element.ipa", size=24_600_000),
    ),
)


def picker_over(qtbot, area: QRect) -> tuple[QWidget, DevicePicker]:
    """A styled window the size of ``area`` with the picker over it, shown (keep the window)."""
    window = QWidget()
    window.setStyleSheet(STYLE_SHEET)
    window.resize(area.size())
    qtbot.addWidget(window)
    picker = DevicePicker(window)
    window.show()
    qtbot.waitExposed(window)
    picker.reposition(area)
    return window, picker


@pytest.fixture
def small_picker(qtbot):
    """The picker over the browser part of a 900x600 window, showing Element and Ben's devices."""
    window, picker = picker_over(qtbot, SMALL_BROWSER)
    picker.open_for(ELEMENT, PackageLink(url=ELEMENT.packages[0].url, page_url="http://127.0.0.1:42167/apps/element"))
    picker.set_devices(BENS_DEVICES)
    yield picker
    window.close()


def seen_in_list(picker: DevicePicker, row: DeviceRow) -> bool:
    """The whole row is inside the part of the device list the user can see."""
    viewport = picker.device_scroll.viewport()
    top_left = row.mapTo(viewport, QPoint(0, 0))
    return viewport.rect().contains(QRect(top_left, row.size())) and row.isVisible()


def on_card(picker: DevicePicker, widget: QWidget) -> bool:
    """The whole widget is on the picker's card, not cut off by its edge."""
    return picker.card.rect().contains(QRect(widget.mapTo(picker.card, QPoint(0, 0)), widget.size()))


def test_every_device_you_can_choose_is_in_sight_at_900x600(small_picker, qtbot):
    picker = small_picker
    choosable = [r for r in picker.rows if r.compatible]
    qtbot.waitUntil(lambda: all(seen_in_list(picker, r) for r in choosable), timeout=WAIT_MS)
    # The card, buttons included, stays inside the browser.
    assert picker.rect().contains(picker.card.geometry())
    assert on_card(picker, picker.install_button)


def test_where_the_app_comes_from_does_not_take_a_row_of_the_header(small_picker):
    picker = small_picker
    assert "127.0.0.1:42167" not in picker.meta_label.text()
    assert picker.source_label.isVisible() and "127.0.0.1:42167" in picker.source_label.text()
    one_line = picker.meta_label.fontMetrics().lineSpacing()
    assert picker.meta_label.height() < 2 * one_line  # one line, not wrapped


def test_a_device_checked_out_of_sight_is_scrolled_into_view(qtbot):
    _window, picker = picker_over(qtbot, QRect(0, 0, 546, 420))
    picker.open_for(ELEMENT)
    many = [device(f"ben-{n}", f"Ben's phone {n}", "android", online=False) for n in range(6)]
    picker.set_devices(many)
    last = picker.rows[-1]
    qtbot.waitUntil(lambda: picker.device_scroll.viewport().height() > 50, timeout=WAIT_MS)
    assert not seen_in_list(picker, last)
    last.checkbox.setChecked(True)
    qtbot.waitUntil(lambda: seen_in_list(picker, last), timeout=WAIT_MS)


def test_the_only_device_you_can_choose_is_chosen_and_in_sight(qtbot):
    _window, picker = picker_over(qtbot, QRect(0, 0, 546, 420))
    picker.open_for(ELEMENT)
    greyed = [device(f"ben-{n}", f"Old phone {n}", "symbian", online=False, compatible=False) for n in range(5)]
    picker.set_devices([*greyed, device("anna-galaxy", "Anna's Galaxy", "android", friend=True)])
    (galaxy,) = [r for r in picker.rows if r.compatible]
    assert galaxy.checked
    qtbot.waitUntil(lambda: seen_in_list(picker, galaxy), timeout=WAIT_MS)


def test_install_now_off_for_a_friend_says_why_in_a_sentence_on_screen(small_picker, qtbot):
    picker = small_picker
    picker.row_for("anna-galaxy").checkbox.setChecked(True)
    assert not picker.install_button.isEnabled()
    qtbot.waitUntil(lambda: picker.install_note.isVisible(), timeout=WAIT_MS)
    assert "friend" in picker.install_note.text().lower()
    assert "notice" in picker.install_note.text().lower()
    assert on_card(picker, picker.install_note)
    picker.row_for("anna-galaxy").checkbox.setChecked(False)
    picker.row_for("ben-pixel").checkbox.setChecked(True)
    assert picker.install_button.isEnabled()
    assert not picker.install_note.isVisible()


def test_relay_down_is_said_once(small_picker):
    picker = small_picker
    picker.set_relay_error(RELAY_DOWN, detail="ConnectionError(...)")
    shown = picker.status_label.text()
    assert RELAY_DOWN.split(":")[0] in shown
    assert shown.count("Can't") == 1


def entry(state: PushState, percent_done: int | None = None) -> PushEntry:
    return PushEntry(
        push_id="p1",
        app_id="im.vector.app",
        app_name="Element",
        app_version="1.6.24",
        icon_url=None,
        device_id="ben-pixel",
        device_name="Ben's Pixel 8",
        owner="ben",
        mode=PushMode.INSTALL_NOW,
        requested_mode=PushMode.INSTALL_NOW,
        state=state,
        bytes_done=percent_done,
        bytes_total=100 if percent_done is not None else None,
    )


def test_pushes_panel_says_its_states_may_be_old_while_not_connected(qtbot):
    panel = PushesPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_connection("connected")
    panel.set_entries([entry(PushState.DOWNLOADING, 37)])
    assert not panel.stale_label.isVisible()
    panel.set_connection("reconnecting", "ConnectionError")
    assert panel.stale_label.isVisible()
    assert "out of date" in panel.stale_label.text()
    panel.set_connection("connected")
    assert not panel.stale_label.isVisible()


def test_pushes_panel_with_nothing_sent_has_nothing_to_call_old(qtbot):
    panel = PushesPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_connection("reconnecting")
    assert not panel.stale_label.isVisible()


def test_address_bar_shows_the_start_of_the_address(qtbot):
    # The profile outlives the window's page: it belongs to the application.
    window = MainWindow(QWebEngineProfile(QApplication.instance()))
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.setStyleSheet(STYLE_SHEET)
    window.resize(900, 600)
    try:
        see_the_start_of_the_address(qtbot, window)
    finally:
        window.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def see_the_start_of_the_address(qtbot, window: MainWindow) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.browser.setFocus()
    url = "http://127.0.0.1:42167/apps/im.vector.app?from=search&q=matrix"
    window.browser.urlChanged.emit(QUrl(url))
    assert window.address.text() == url
    assert window.address.cursorPosition() == 0  # so the scheme and the host are what shows
    # Room for a relay's whole address (the field has ~30 px of padding and border), and still
    # every toolbar button in sight rather than in the toolbar's overflow menu.
    address = "http://127.0.0.1:42167/"
    assert window.address.width() - 30 >= window.address.fontMetrics().horizontalAdvance(address)
    assert window.toolbar.widgetForAction(window.pushes_action).isVisible()
    assert window.toolbar.widgetForAction(window.people_action).isVisible()


def test_names_in_chinese_are_joined_with_the_enumeration_comma():
    from desktop_sender.notice import device_list

    zh = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    assert device_list(["Ben's Pixel 8", "Ben's iPad"], zh) == "Ben's Pixel 8、Ben's iPad"
    assert device_list(["A", "B", "C"], zh) == "A、B、C"
    en = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    assert device_list(["Ben's Pixel 8", "Ben's iPad"], en) == "Ben's Pixel 8 and Ben's iPad"


def test_in_a_tiny_window_the_app_and_devices_scroll_and_the_buttons_stay(qtbot):
    _window, picker = picker_over(qtbot, QRect(0, 0, 546, 330))
    picker.open_for(ELEMENT)
    picker.set_devices(BENS_DEVICES)
    assert picker.rect().contains(picker.card.geometry())
    assert on_card(picker, picker.install_button) and on_card(picker, picker.save_button)
    # Not even a short list fits under the header: the upper part scrolls as a whole, and the
    # list keeps a row and more in sight rather than shrinking to nothing.
    qtbot.waitUntil(lambda: picker.body_scroll.verticalScrollBar().maximum() > 0, timeout=WAIT_MS)
    assert picker.device_scroll.height() >= 90
