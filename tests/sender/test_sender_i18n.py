"""The sender speaks Simplified Chinese with ``--lang zh_CN`` and English otherwise (issue 17).

A real sender against the session's relay: the picker opened from a store download and the
Pushes panel with a real push, read as a person reads them, in each language. The translators
are taken out again after each test, so the rest of the suite stays in English.
"""

from __future__ import annotations

import argparse

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtGui import QFontDatabase

from appbeam_devtools.local_relay import free_port
from desktop_sender import cli
from desktop_sender.i18n import choose_language, forget_language
from tests.sender.sender_helpers import WAIT_MS, SenderHarness
from tests.sender.test_sender_store import catalog_app, download_selector

pytestmark = pytest.mark.qt


@pytest.fixture
def speaking(qapp):
    """``speaking(["--lang", "zh_CN"])``: the sender's flags parsed and its language set up as
    ``appbeam sender`` does; undone afterwards."""
    installed = []
    before = QLocale()

    def start(argv: list[str]) -> None:
        parser = argparse.ArgumentParser()
        cli.add_arguments(parser)
        installed.extend(cli.set_language(qapp, parser.parse_args(argv)))

    yield start
    for translator in installed:
        qapp.removeTranslator(translator)
    forget_language(qapp)
    QLocale.setDefault(before)


@pytest.fixture
def started(qtbot, relay, accounts, tmp_path):
    """Start a signed-in sender (after ``speaking``), closed afterwards."""
    harnesses = []

    def start() -> SenderHarness:
        harness = SenderHarness(qtbot, tmp_path / "sender", relay.url, accounts.username, accounts.password)
        harnesses.append(harness)
        harness.start()
        return harness

    yield start
    for harness in harnesses:
        harness.close()


def _picker_and_a_queued_push(sender, relay, accounts):
    """Open the picker on a store app, then push one to the offline tablet and load the panel."""
    app = catalog_app(relay.url, {"apk"})
    sender.open_picker_by_click(download_selector(app.id, "apk"))
    (push,) = sender.app.client.push({"id": "org.videolan.vlc"}, "notify", [accounts.ids["tablet"]])
    with sender.qtbot.waitSignal(sender.app.pushes_loaded, timeout=WAIT_MS):
        sender.app.load_pushes()
    return sender.picker, sender.panel.rows[push.id]


def test_lang_zh_cn_shows_the_picker_and_the_pushes_panel_in_chinese(speaking, started, relay, accounts):
    # Without a CJK font every word below would be drawn as boxes.
    assert QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese), "no Chinese font installed"
    speaking(["--lang", "zh_CN"])
    sender = started()
    picker, row = _picker_and_a_queued_push(sender, relay, accounts)

    assert picker.install_button.text() == "在我的设备上立即安装"
    assert picker.notify_button.text() == "推送，我自己安装"
    assert picker.save_button.text() == "下载到这台电脑"
    assert picker.hint_label.text() == "选择一台或多台设备"
    tablet = picker.row_for(accounts.ids["tablet"])
    assert tablet is not None and tablet.note.text().startswith("无法安装：")
    # Why, in Chinese too: the relay's own reason is English, the sender says it again in its language.
    assert "这个应用提供的是 apk" in tablet.note.text() and "comes as" not in tablet.note.text()

    panel = sender.panel
    assert panel.windowTitle() == "推送"
    assert row.state_label.text() == "排队中（设备离线）"
    assert "通知" in row.target.text() and "刚刚" in row.target.text()
    assert row.cancel_button.text() == "取消"
    sender.qtbot.waitUntil(lambda: "实时" in panel.connection_label.text(), timeout=WAIT_MS)
    assert sender.window.add_phone_action.text() == "添加手机"
    # Qt's own dialogs (file chooser, message boxes) speak it too: qtbase_zh_CN is loaded.
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"


def test_the_default_locale_keeps_the_sender_in_english(speaking, started, relay, accounts, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    speaking([])
    sender = started()
    picker, row = _picker_and_a_queued_push(sender, relay, accounts)

    assert picker.install_button.text() == "Install now on my device"
    assert picker.notify_button.text() == "Send, I'll install it myself"
    assert picker.hint_label.text() == "Choose one or more devices"
    assert sender.panel.windowTitle() == "Pushes"
    assert row.state_label.text() == "Queued (device offline)"
    assert "Notice" in row.target.text() and "just now" in row.target.text()
    assert row.cancel_button.text() == "Cancel"
    # English plurals come from appbeam_en.ts: "1 minute", "5 minutes", never "5 minute(s)".
    assert QCoreApplication.translate("AddPhoneDialog", "Works once, for the next %n minute(s).", "", 1) == (
        "Works once, for the next 1 minute."
    )
    assert QCoreApplication.translate("AddPhoneDialog", "Works once, for the next %n minute(s).", "", 5) == (
        "Works once, for the next 5 minutes."
    )


def test_lang_zh_cn_shows_the_store_page_and_a_relay_down_sentence_in_chinese(speaking, started, relay):
    speaking(["--lang", "zh_CN"])
    sender = started()

    # The store page in the sender's browser asked in Chinese (Accept-Language) and answered in it.
    assert sender.js("document.documentElement.lang").startswith("zh")
    assert sender.js("document.querySelector('a.download').textContent").strip().startswith("免费下载")

    # The relay goes away: the picker's sentence (shared.explain) is Chinese too, not English in a Chinese frame.
    gone = f"127.0.0.1:{free_port()}"
    sender.app.client.base_url = f"http://{gone}/"
    sender.click("a.download")
    picker = sender.picker
    sender.qtbot.waitUntil(lambda: picker.isVisible() and picker.retry_button.isVisible(), timeout=WAIT_MS)
    assert picker.retry_button.text() == "重试"
    text = picker.status_label.text()
    assert text.startswith(f"无法连接中继 {gone}"), text  # one sentence, not "can't get your devices: can't..."
    assert not any(word in text for word in ("Can't", "relay", "Retry")), text


@pytest.mark.parametrize(
    ("requested", "system", "expected"),
    [
        ("zh_CN", "en_US.UTF-8", "zh_CN"),
        ("zh-CN", "", "zh_CN"),
        (None, "zh_CN.UTF-8", "zh_CN"),
        (None, "zh_SG", "zh_CN"),
        (None, "zh_TW.UTF-8", "en"),  # Traditional Chinese: not translated yet, English rather than Simplified
        (None, "de_DE.UTF-8", "en"),
        (None, "C.UTF-8", "en"),
        ("fr", "zh_CN.UTF-8", "en"),  # an explicit --lang wins over the system, even one we lack
    ],
)
def test_choose_language(requested, system, expected):
    assert choose_language(requested, system) == expected


def test_the_catalog_check_names_an_untranslated_entry(tmp_path):
    from desktop_sender.i18n import ts_file
    from desktop_sender.i18n.catalogs import problems

    assert problems(ts_file("zh_CN")) == [] and problems(ts_file("en")) == []
    text = ts_file("zh_CN").read_text(encoding="utf-8")
    marked = text.replace(
        "<translation>在我的设备上立即安装</translation>", '<translation type="unfinished"></translation>'
    )
    assert marked != text
    broken = tmp_path / "appbeam_zh_CN.ts"
    broken.write_text(marked, encoding="utf-8")
    assert problems(broken) == ["appbeam_zh_CN.ts: DevicePicker: 'Install now on my device' is unfinished"]
