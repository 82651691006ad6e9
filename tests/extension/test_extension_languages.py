"""The extension in Simplified Chinese and in English (issue 17): Debian's Chromium started in
zh-CN shows the sign-in page, the store's Free download and the device picker in Chinese (the
extension's _locales, the store page's own catalog), and started in English, all of it in English.

One relay and one Chromium per language. Alex signs the extension in with a password
and has a phone (offline) and a friend, Sam, with one of his own. Screenshots land in the test's
directory, and in $APPBEAM_EXTENSION_SCREENSHOTS when set.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from shared.relay_client import DeviceInfo, RelayClient
from tests.extension.browser import ExtensionBrowser, compose_over_page
from tests.helpers.relay_process import RelayProcess

PASSWORD = "correct horse"
WAIT_MS = 90_000
APP = 'a.download[data-app-id="org.fdroid.fdroid"][data-format="apk"]'

#: What each language shows, and English words that must not be left over in the Chinese picker.
WORDS = {
    "zh-CN": {
        "html": "zh-CN",
        "signin_heading": "从这个浏览器推送应用",
        "pairing_hint": "在电脑上打开 Appbeam，点击添加手机，然后输入它显示的 8 个字符。无需密码。",
        "signed_in": "以 alex 的身份登录",
        "store_download": "免费下载",
        "hint": "选择一台或多台设备",
        "one_selected": "已选择 1 台",
        "install": "在我的设备上立即安装",
        "offline": "离线",
        "last_seen": "上次在线：刚刚",
        "friend": "sam 的设备",
        "version": "版本 ",
        "notice": "F-Droid 已安装到 Alex's Pixel。",
        "no_app": "此页面没有可推送的应用。",
    },
    "en-US": {
        "html": "en",
        "signin_heading": "Send apps from this browser",
        "pairing_hint": "On your computer, open Appbeam and click Add a phone: type the 8 characters it shows. No password needed.",
        "signed_in": "Signed in as alex",
        "store_download": "Free download",
        "hint": "Choose one or more devices",
        "one_selected": "1 selected",
        "install": "Install now on my device",
        "offline": "Offline",
        "last_seen": "last seen just now",
        "friend": "sam's device",
        "version": "Version ",
        "notice": "F-Droid is installed on Alex's Pixel.",
        "no_app": "This page offers no app to send.",
    },
}
ENGLISH_LEFTOVERS = ("Send to", "Offline", "Choose", "Install now", "Download to this computer", "last seen", "Version")


@pytest.fixture
def relay(tmp_path):
    # One relay per language: the other language's browser would be one more device in the picker.
    with RelayProcess(tmp_path / "relay") as running:
        alex = RelayClient(running.url)
        alex.create_account("alex", PASSWORD)
        alex.login("alex", PASSWORD, DeviceInfo("alex-pixel", "Alex's Pixel", "Pixel 8", "android"))
        sam = RelayClient(running.url)
        sam.create_account("sam", PASSWORD)
        sam.login("sam", PASSWORD, DeviceInfo("sam-galaxy", "Sam's Galaxy", "Galaxy S24", "android"))
        sam.request_friend("alex")
        alex.accept_friend("sam")
        yield running


def _shot(page, path: Path) -> Path:
    page.screenshot(path=str(path))
    return _copy_out(path)


def _copy_out(path: Path) -> Path:
    target = os.environ.get("APPBEAM_EXTENSION_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


def _sign_in(browser, relay, words) -> None:
    page = browser.context.new_page()
    page.goto(browser.url("signin.html"))
    assert page.get_attribute("html", "lang") == words["html"]
    assert page.inner_text("h1") == words["signin_heading"]
    # The button's name, in bold, in its place in the sentence.
    assert page.inner_text('[data-i18n="pairingHint"]') == words["pairing_hint"]
    assert page.inner_text('[data-i18n="pairingHint"] b') in words["pairing_hint"]
    if words["html"] != "en":  # two English words in a row: a sentence left untranslated
        assert not re.findall(r"[A-Za-z]{2,} [a-z]{2,}", page.inner_text("body")), page.inner_text("body")
    page.check('input[name="way"][value="password"]')
    page.fill("#relay", relay.url)
    page.fill("#username", "alex")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector("#signed-in:not([hidden])", timeout=WAIT_MS)
    assert words["signed_in"] in page.inner_text("#signed-in")
    page.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_the_picker_speaks_the_browsers_language(relay, tmp_path, lang):
    words = WORDS[lang]
    with ExtensionBrowser(tmp_path / "browser", lang=lang) as browser:
        _sign_in(browser, relay, words)

        store = browser.context.new_page()
        store.goto(relay.url + "/")
        assert store.get_attribute("html", "lang") == words["html"]  # the browser's Accept-Language
        assert store.inner_text(APP).startswith(words["store_download"])
        with browser.context.expect_page(timeout=WAIT_MS) as opened:
            store.click(APP)
        popup = opened.value
        popup.set_viewport_size({"width": 560, "height": 560})  # the popup window's size (background.js)
        popup.wait_for_selector("li.device", timeout=WAIT_MS)

        assert popup.get_attribute("html", "lang") == words["html"]
        assert popup.inner_text("#hint") == words["hint"]
        assert popup.inner_text("#install") == words["install"]
        assert words["version"] in popup.inner_text("#app-meta")
        phone = popup.locator('li.device[data-device-id="alex-pixel"]')
        assert words["offline"] in phone.inner_text() and words["last_seen"] in phone.inner_text()
        assert words["friend"] in popup.locator('li.device[data-device-id="sam-galaxy"]').inner_text()
        phone.click()
        assert popup.inner_text("#hint") == words["one_selected"]
        if lang == "zh-CN":
            shown = popup.inner_text("body")
            assert not [w for w in ENGLISH_LEFTOVERS if w in shown], shown
            assert not re.findall(r"[A-Za-z]{2,} [a-z]{2,}", shown), shown
        # Nothing cut off: the Chinese words are taller, the English ones longer.
        assert popup.evaluate("document.documentElement.scrollWidth") <= 560
        name = f"extension-picker-{lang.replace('-', '_')}"
        _shot(store, tmp_path / f"store-{lang.replace('-', '_')}.png")
        _shot(popup, tmp_path / f"{name}-window.png")
        composed = compose_over_page(
            tmp_path / f"store-{lang.replace('-', '_')}.png",
            tmp_path / f"{name}-window.png",
            tmp_path / f"{name}.png",
        )
        _copy_out(composed)

        # The notification a push's end gets, and the toolbar button on a page with no app.
        notice = popup.evaluate(
            "async () => (await import('./src/follow.js')).endMessage('installed', 'F-Droid', \"Alex's Pixel\")"
        )
        assert notice == words["notice"]
        with browser.context.expect_page(timeout=WAIT_MS) as opened:
            browser.worker.evaluate("() => appbeam.handlePage({id: -1, url: 'about:blank'})")
        problem = opened.value
        problem.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
        assert problem.inner_text("#problem").startswith(words["no_app"])
        assert browser.page_errors == []
