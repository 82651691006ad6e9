"""The browser extension in Debian's Chromium, end to end: a click on Free download in the relay's
store becomes a signed push that a real (headless) phone installs by itself.

One relay, one Chromium and one phone for the module (a Chromium start costs seconds): Alex has a
laptop (the desktop app, which makes the pairing code), an iPad that takes no APK, and a friend,
Sam, with a phone. The extension pairs with the laptop's code before Alex's phone first signs in,
so the phone pins the extension's key with the account's others and installs its pushes with no
tap (mobile_receiver/trust.py). Screenshots land in the test's directory, and in
$APPBEAM_EXTENSION_SCREENSHOTS when set.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import requests

from shared.relay_client import DeviceInfo, RelayClient
from shared.signing import DeviceKey
from tests.extension.browser import ExtensionBrowser, compose_over_page
from tests.helpers.polling import wait_for
from tests.helpers.receiver_process import ReceiverProcess
from tests.helpers.relay_process import RelayProcess, free_port
from tests.helpers.servers import FileServer

PASSWORD = "correct horse"
WAIT = 90.0
WAIT_MS = int(WAIT * 1000)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("extension")
    with RelayProcess(root / "relay") as relay:
        laptop = RelayClient(relay.url, key=DeviceKey.generate())
        laptop.create_account("alex", PASSWORD)
        laptop.login("alex", PASSWORD, DeviceInfo("alex-laptop", "Alex's laptop", "ThinkPad", "linux"))
        RelayClient(relay.url).login("alex", PASSWORD, DeviceInfo("alex-ipad", "Alex's iPad", "iPad Air", "ios"))
        sam = RelayClient(relay.url)
        sam.create_account("sam", PASSWORD)
        sam.login("sam", PASSWORD, DeviceInfo("sam-galaxy", "Sam's Galaxy", "Galaxy S24", "android"))
        sam.request_friend("alex")
        laptop.accept_friend("sam")
        with ExtensionBrowser(root / "browser") as browser:
            world = type("World", (), {})()
            world.root, world.relay, world.laptop, world.sam, world.browser = root, relay, laptop, sam, browser
            _pair(world)
            # Alex's phone signs in for the first time after the extension joined: it trusts its key.
            world.phone = ReceiverProcess(
                root / "phone", relay.url, "alex", PASSWORD, name="Alex's Pixel", model="Pixel 8", platform="android"
            ).start()
            try:
                yield world
            finally:
                world.phone.stop()


def _pair(world) -> None:
    """As Alex: Add a phone on the laptop makes a code; the extension's sign-in page claims it."""
    code = world.laptop.create_pairing().code
    page = world.browser.context.new_page()
    page.goto(world.browser.url("signin.html"))
    page.fill("#relay", world.relay.url)
    page.fill("#code", code.lower())  # typed carelessly: case and dash do not matter
    page.click("#submit")
    page.wait_for_selector("#signed-in:not([hidden])", timeout=WAIT_MS)
    assert "Signed in as alex" in page.inner_text("#signed-in")
    assert "Paired by Alex's laptop." in page.inner_text("#signed-in")
    _shot(world, page, "extension-signed-in.png")
    page.close()
    world.extension = next(d for d in world.laptop.devices() if d.platform == "browser")


@pytest.fixture
def browser(world):
    world.browser.page_errors.clear()
    yield world.browser
    assert world.browser.page_errors == [], "uncaught errors in the extension's pages"


def _shot(world, page, name: str) -> Path:
    path = world.root / name
    page.screenshot(path=str(path))
    return _copy_out(path)


def _copy_out(path: Path) -> Path:
    target = os.environ.get("APPBEAM_EXTENSION_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


def _open_picker_by_click(world, selector: str):
    page = world.browser.context.new_page()
    page.goto(world.relay.url + "/")
    with world.browser.context.expect_page(timeout=WAIT_MS) as opened:
        page.click(selector)
    popup = opened.value
    popup.wait_for_load_state()
    return page, popup


def _row(popup, device_id: str):
    return popup.locator(f'li.device[data-device-id="{device_id}"]')


def _pushes_by_state(popup) -> dict[str, str]:
    return {
        el.get_attribute("data-push-id"): el.get_attribute("data-state")
        for el in popup.locator("li.push").element_handles()
    }


def _installed(world, app_id: str) -> dict | None:
    return next((a for a in world.phone.state()["installed"] if a["app_id"] == app_id), None)


# --------------------------------------------------------------------------- the story


def test_free_download_becomes_a_signed_push_the_phone_installs_by_itself(browser, world):
    store, popup = _open_picker_by_click(world, 'a.download[data-app-id="org.fdroid.fdroid"][data-format="apk"]')
    popup.set_viewport_size({"width": 560, "height": 560})  # the popup window's size (background.js)
    popup.wait_for_selector("li.device", timeout=WAIT_MS)

    # The app came from the store page's JSON-LD: its name, not the file name.
    assert popup.inner_text("#app-name") == "F-Droid"
    # Own and friends' devices, the iPad greyed with the reason, the phone online.
    ipad = _row(popup, "alex-ipad")
    assert "incompatible" in ipad.get_attribute("class")
    assert "iOS installs ipa, pxl, deb" in ipad.inner_text()
    assert "sam's device" in _row(popup, "sam-galaxy").inner_text()
    phone = _row(popup, _phone_id(world))
    assert "Online" in phone.inner_text()
    assert popup.is_disabled("#install")
    _shot(world, popup, "extension-picker.png")
    _shot(world, store, "extension-store.png")
    compose_over_page(
        world.root / "extension-store.png",
        world.root / "extension-picker.png",
        world.root / "extension-picker-over-store.png",
    )
    _copy_out(world.root / "extension-picker-over-store.png")

    phone.click()
    assert popup.inner_text("#hint") == "1 selected"
    popup.click("#install")
    popup.wait_for_selector('li.push[data-state="installed"]', timeout=WAIT_MS)
    assert "Installed" in popup.inner_text("#pushes")
    _shot(world, popup, "extension-installed.png")

    assert _installed(world, "org.fdroid.fdroid") is not None
    (push_id,) = _pushes_by_state(popup)
    push = _as_extension(world, f"/api/v1/pushes/{push_id}")
    # Signed by the extension's own key and installed with no tap: the phone trusted it from pairing.
    assert push["signed"] is True and push["mode"] == "install_now"
    assert push["sender"]["device_id"] == world.extension.id
    history = [h["state"] for h in push["history"]]
    assert history.index("installed") > history.index("downloading"), history
    assert world.phone.push(push_id)["prompt"] in (None, ""), world.phone.push(push_id)
    # The relay needed no CORS: the extension's host permissions let it through (docs/extension.md).
    answer = requests.get(
        world.relay.url + "/healthz",
        timeout=30,
        headers={"Origin": f"chrome-extension://{browser.extension_id}"},
    )
    assert "Access-Control-Allow-Origin" not in answer.headers
    store.close()
    popup.close()


def _phone_id(world) -> str:
    return next(d.id for d in world.laptop.devices() if d.name == "Alex's Pixel")


def _as_extension(world, path: str) -> dict:
    return world.browser.worker.evaluate(
        """async (path) => {
             const { session } = await chrome.storage.local.get("session");
             const r = await fetch(session.relayUrl + path, { headers: { Authorization: `Bearer ${session.token}` } });
             return await r.json();
           }""",
        path,
    )


def _open_picker_from_worker(world, script: str, arg):
    """Run a handler in the service worker (what a context-menu click or the toolbar button runs:
    Playwright cannot click the browser's own menus) and return the picker window it opens."""
    with world.browser.context.expect_page(timeout=WAIT_MS) as opened:
        world.browser.worker.evaluate(script, arg)
    popup = opened.value
    popup.wait_for_load_state()
    return popup


#: What background.js runs for "Send to my phone…" on a link: [link URL, page URL, tab id].
CONTEXT_MENU_CLICK = "([url, pageUrl, tabId]) => appbeam.handleLink({url, pageUrl, source: 'link'}, tabId ?? undefined)"


def _tab_id(world, url: str) -> int:
    return world.browser.worker.evaluate(
        "async (url) => (await chrome.tabs.query({})).find((t) => t.url === url).id", url
    )


def _notifications(world) -> list[str]:
    return list(world.browser.worker.evaluate("async () => Object.keys(await chrome.notifications.getAll())"))


def test_send_to_my_phone_on_a_link_sends_notices_to_own_and_friends_devices(browser, world):
    store = browser.context.new_page()
    store.goto(world.relay.url + "/")
    link = store.locator('a.download[data-app-id="com.termux"][data-format="apk"]').first
    url = world.relay.url + link.get_attribute("href")
    popup = _open_picker_from_worker(world, CONTEXT_MENU_CLICK, [url, store.url, _tab_id(world, store.url)])
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    assert popup.inner_text("#app-name") == "Termux"  # from the page's JSON-LD, as for a click

    _row(popup, _phone_id(world)).click()
    _row(popup, "sam-galaxy").click()
    _row(popup, "alex-ipad").click()  # greyed: clicking it chooses nothing
    assert popup.inner_text("#hint") == "2 selected"
    assert popup.is_disabled("#install"), "a friend's device never installs without its owner"
    assert "only gets a notice" in popup.get_attribute("#install", "title")
    popup.click("#notify")

    popup.wait_for_selector("li.push", timeout=WAIT_MS)
    by_state = wait_for(lambda: len(_pushes_by_state(popup)) == 2 and _pushes_by_state(popup), WAIT, "two pushes")
    phone_push = next(p for p in by_state if world.phone.push(p) is not None)
    world.phone.wait_for(
        lambda st: any(p["push_id"] == phone_push and p["prompt"] == "download" for p in st["pushes"]),
        WAIT,
        "the phone's notice",
    )
    assert _installed(world, "com.termux") is None, "a notice installs nothing by itself"
    world.phone.tap(phone_push, "download")
    popup.wait_for_selector(f'li.push[data-push-id="{phone_push}"][data-state="installed"]', timeout=WAIT_MS)
    friend_push = next(p for p in by_state if p != phone_push)
    assert _pushes_by_state(popup)[friend_push] == "queued"  # Sam's phone is off: the relay keeps it
    assert "Queued (device offline)" in popup.inner_text("#pushes")
    _shot(world, popup, "extension-notices.png")
    # The end of the phone's push is announced by a browser notification.
    wait_for(lambda: f"appbeam-{phone_push}" in _notifications(world), WAIT, "the notification")
    store.close()
    popup.close()


def test_the_toolbar_button_sends_the_app_the_page_is_about(browser, world):
    page = browser.context.new_page()
    page.goto(world.relay.url + "/app/org.fdroid.fdroid")
    popup = _open_picker_from_worker(
        world, "async (tabId) => appbeam.handlePage(await chrome.tabs.get(tabId))", _tab_id(world, page.url)
    )
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    assert popup.inner_text("#app-name") == "F-Droid"
    popup.close()
    page.goto(world.relay.url + "/healthz")
    popup = _open_picker_from_worker(
        world, "async (tabId) => appbeam.handlePage(await chrome.tabs.get(tabId))", _tab_id(world, page.url)
    )
    popup.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert "This page offers no app to send" in popup.inner_text("#problem")
    popup.close()
    page.close()


def test_a_relay_that_is_down_is_a_sentence_with_try_again_also_in_a_narrow_window(browser, world):
    session = browser.worker.evaluate("async () => (await chrome.storage.local.get('session')).session")
    dead = f"http://127.0.0.1:{free_port()}"
    browser.worker.evaluate("async (s) => chrome.storage.local.set({session: s})", {**session, "relayUrl": dead})
    try:
        link = dead + "/files/x/org.example.notes-1.2.apk"
        popup = _open_picker_from_worker(world, CONTEXT_MENU_CLICK, [link, "", None])
        popup.set_viewport_size({"width": 360, "height": 640})
        popup.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
        host = dead.split("//")[1]
        assert popup.inner_text("#problem") == f"Can't reach the relay at {host}: nothing answers there. Is it running?"
        assert popup.is_visible("#retry")
        assert popup.inner_text("#app-name") == "org.example.notes-1.2"  # no page: from the link alone
        _shot(world, popup, "extension-relay-down.png")
        popup.close()
    finally:
        browser.worker.evaluate("async (s) => chrome.storage.local.set({session: s})", session)
    # The same picker in a narrow window: the buttons stack, nothing is cut off.
    store, popup = _open_picker_by_click(world, 'a.download[data-app-id="org.fdroid.fdroid"][data-format="apk"]')
    popup.set_viewport_size({"width": 380, "height": 720})
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    _row(popup, _phone_id(world)).click()
    width = popup.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, f"the picker scrolls sideways in a narrow window ({width} px)"
    _shot(world, popup, "extension-narrow.png")
    store.close()
    popup.close()


def test_signing_in_with_a_password_keeps_the_same_device_and_key(browser, world):
    before = next(d for d in world.laptop.devices() if d.id == world.extension.id)
    page = browser.context.new_page()
    page.goto(browser.url("signin.html?signout=1"))
    page.wait_for_selector("#signed-in[hidden]", state="attached")
    page.fill("#relay", world.relay.url.removeprefix("http://"))  # typed without the scheme
    page.check('input[name="way"][value="password"]')
    page.fill("#username", "alex")
    page.fill("#password", "wrong horse")
    page.click("#submit")
    page.wait_for_selector("#error:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#error") == "Wrong username or password."
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector("#signed-in:not([hidden])", timeout=WAIT_MS)
    assert "Signed in as alex" in page.inner_text("#signed-in")
    after = next(d for d in world.laptop.devices() if d.id == world.extension.id)
    assert after.public_key == before.public_key, "the browser's key is made once and kept"
    assert after.platform == "browser"
    page.close()


PASS_THROUGH = "async () => (await chrome.storage.session.get('passThrough')).passThrough || []"


def _downloads(world, url: str) -> list[dict]:
    return list(world.browser.worker.evaluate("async (url) => chrome.downloads.search({url})", url))


def test_only_packages_are_taken_over_and_download_to_this_computer_lets_one_through(browser, world):
    page = browser.context.new_page()
    page.goto(world.relay.url + "/")
    stylesheet = world.relay.url + "/static/store.css"
    page.evaluate(
        """(url) => { const a = document.createElement('a'); a.href = url; a.download = 'store.css';
                                a.id = 'plain-file'; a.textContent = 'a plain file'; document.body.prepend(a); }""",
        stylesheet,
    )
    windows = len(browser.context.pages)
    page.click("#plain-file")
    wait_for(lambda: _downloads(world, stylesheet), WAIT, "the plain file's download")

    package = page.locator('a.download[data-app-id="org.fdroid.fdroid"][data-format="apk"]').first
    url = world.relay.url + package.get_attribute("href")
    with browser.context.expect_page(timeout=WAIT_MS) as opened:
        package.click()
    popup = opened.value
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    # Downloads are handled in the order they start: had the plain file opened a picker, it would be here.
    assert len(browser.context.pages) == windows + 1, "a file that is no package opened the picker"
    assert _downloads(world, url) == [], "the taken-over download is cancelled and erased"
    popup.click("#save")
    wait_for(lambda: _downloads(world, url), WAIT, "the download to this computer")
    # The service worker let it through and forgot it (one download only), opening nothing.
    wait_for(lambda: browser.worker.evaluate(PASS_THROUGH) == [], WAIT, "the let-through download to be handled")
    wait_for(lambda: popup.is_closed(), WAIT, "the picker to close")
    assert len(browser.context.pages) == windows, "the download let through opened another picker"
    page.close()


def test_send_to_my_phone_on_a_bare_link_asks_its_server_what_it_is(browser, world):
    """A link whose URL names no package (the relay's download by app id, a redirect to the file):
    a HEAD request finds the file, and the file is on the page's JSON-LD: the whole app shows."""
    page = browser.context.new_page()
    page.goto(world.relay.url + "/")
    bare = world.relay.url + "/api/v1/apps/org.fdroid.fdroid/package?platform=android"
    popup = _open_picker_from_worker(world, CONTEXT_MENU_CLICK, [bare, page.url, _tab_id(world, page.url)])
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    assert popup.inner_text("#app-name") == "F-Droid"
    assert "Version 1.20.0" in popup.inner_text("#app-meta")
    popup.close()
    page.close()


def test_a_package_on_a_site_without_json_ld_is_hashed_in_the_browser_and_installs_by_itself(browser, world, tmp_path):
    """Another web site, a plain link, no JSON-LD: the install information comes from the link and
    the download; for Install now the extension fetches the package and signs its SHA-256, so the
    phone installs it without a tap."""
    apk = next((world.relay.data_dir / "demo-packages").glob("org.videolan.vlc-*.apk"))
    files = tmp_path / "site"
    files.mkdir()
    shutil.copy(apk, files / apk.name)
    (files / "index.html").write_text(f'<!doctype html><title>Elsewhere</title><a id="get" href="{apk.name}">Get</a>')
    with FileServer(files) as site:
        page = browser.context.new_page()
        page.goto(site.url + "/index.html")
        with browser.context.expect_page(timeout=WAIT_MS) as opened:
            page.click("#get")
        popup = opened.value
        popup.wait_for_selector("li.device", timeout=WAIT_MS)
        assert popup.inner_text("#app-name") == apk.stem  # the file name: the page says nothing more
        _row(popup, _phone_id(world)).click()
        popup.click("#install")
        popup.wait_for_selector('li.push[data-state="installed"]', timeout=WAIT_MS)
        (push_id,) = _pushes_by_state(popup)
        push = _as_extension(world, f"/api/v1/pushes/{push_id}")
        assert push["signed"] is True
        assert push["package"]["sha256"] == hashlib.sha256(apk.read_bytes()).hexdigest()
        assert _installed(world, "org.videolan.vlc") is not None
        assert world.phone.push(push_id)["prompt"] in (None, ""), "it installed without a tap"
        popup.close()
        page.close()


def test_a_push_is_followed_to_its_notification_after_the_picker_is_closed(browser, world):
    store, popup = _open_picker_by_click(world, 'a.download[data-app-id="de.danoeh.antennapod"][data-format="apk"]')
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    _row(popup, _phone_id(world)).click()
    popup.click("#notify")
    popup.wait_for_selector("li.push", timeout=WAIT_MS)
    (push_id,) = _pushes_by_state(popup)
    popup.close()  # before the phone's user decides
    world.phone.wait_for(
        lambda st: any(p["push_id"] == push_id and p["prompt"] == "download" for p in st["pushes"]),
        WAIT,
        "the phone's notice",
    )
    world.phone.tap(push_id, "download")
    wait_for(lambda: _as_extension(world, f"/api/v1/pushes/{push_id}")["state"] == "installed", WAIT, "the install")
    assert f"appbeam-{push_id}" not in _notifications(world)
    # What the service worker's alarm runs every 30 s, run now.
    assert browser.worker.evaluate("() => appbeam.followNow()") == 1
    assert f"appbeam-{push_id}" in _notifications(world)
    assert browser.worker.evaluate("() => appbeam.followNow()") == 0, "each push is announced once"
    store.close()


def test_a_declined_push_its_phone_reopens_is_followed_to_installed(browser, world):
    """Download again on a phone re-opens a declined push (shared.protocol REOPENABLE_STATES): the
    picker keeps listening after Declined. The phone here is a device of Alex's reporting through
    the relay API as a phone does (the headless receiver's control socket has no Download again)."""
    old_phone = RelayClient(world.relay.url)
    old_phone.login("alex", PASSWORD, DeviceInfo("alex-old-phone", "Alex's old phone", "Moto G", "android"))
    store, popup = _open_picker_by_click(
        world, 'a.download[data-app-id="com.kunzisoft.keepass.libre"][data-format="apk"]'
    )
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    _row(popup, "alex-old-phone").click()
    popup.click("#notify")
    popup.wait_for_selector("li.push", timeout=WAIT_MS)
    popup.wait_for_selector("#live:has-text('Live')", timeout=WAIT_MS)
    (push_id,) = _pushes_by_state(popup)
    old_phone.report(push_id, "delivered")
    old_phone.report(push_id, "declined")
    popup.wait_for_selector(f'li.push[data-push-id="{push_id}"][data-state="declined"]', timeout=WAIT_MS)
    assert popup.inner_text("#live") != "Done", "a declined push may come back: the picker keeps listening"
    for state in ("downloading", "verifying", "installing", "installed"):  # Download again, on the phone
        old_phone.report(push_id, state)
    popup.wait_for_selector(f'li.push[data-push-id="{push_id}"][data-state="installed"]', timeout=WAIT_MS)
    assert popup.inner_text("#live") == "Done"
    old_phone.remove_device("alex-old-phone")
    store.close()
    popup.close()


# Last in the module: it replaces the extension's key.
def test_a_browser_that_lost_its_key_registers_a_new_one_which_phones_do_not_trust_silently(browser, world):
    """The browser's storage was cleared: a new key is made at the next push and registered with
    the relay, but the phone pinned the old one, so Install now arrives as a notice."""
    page = browser.context.new_page()
    page.goto(browser.url("signin.html"))
    page.evaluate("""() => new Promise((resolve, reject) => {
                       const request = indexedDB.deleteDatabase("appbeam");
                       request.onsuccess = resolve; request.onerror = reject; request.onblocked = resolve; })""")
    page.close()
    old_key = world.extension.public_key
    store, popup = _open_picker_by_click(world, 'a.download[data-app-id="com.nextcloud.client"][data-format="apk"]')
    popup.wait_for_selector("li.device", timeout=WAIT_MS)
    _row(popup, _phone_id(world)).click()
    popup.click("#install")
    popup.wait_for_selector("li.push", timeout=WAIT_MS)
    (push_id,) = _pushes_by_state(popup)
    new_key = next(d for d in world.laptop.devices() if d.id == world.extension.id).public_key
    assert new_key and new_key != old_key
    phone_push = world.phone.wait_for(
        lambda st: next((p for p in st["pushes"] if p["push_id"] == push_id and p["prompt"]), None),
        WAIT,
        "the push to arrive as a notice",
    )
    assert _installed(world, "com.nextcloud.client") is None, f"installed with an untrusted key: {phone_push}"
    store.close()
    popup.close()
