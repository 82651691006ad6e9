"""Helpers for the sender's tests: accounts on a real relay, a local web site, a sender harness."""

from __future__ import annotations

import functools
import http.server
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from shared.event_stream import EventStream
from shared.messages import Push
from shared.relay_client import DeviceInfo, RelayClient

PASSWORD = "test password 123"

#: Milliseconds a test waits for something it needs before giving up: generous, because the
#: machine may be busy (Chromium is slow to start there); waiting ends as soon as it happens.
WAIT_MS = 60_000


@dataclass
class Accounts:
    """One user with devices, and a friend: clients logged in as each device."""

    username: str
    friend: str
    password: str
    phone: RelayClient  # android, online (holds a stream)
    tablet: RelayClient  # ios, offline
    friend_phone: RelayClient  # android, online, the friend's
    ids: dict[str, str]
    streams: list[EventStream] = field(default_factory=list)

    def close(self) -> None:
        for stream in self.streams:
            stream.close()


def _hold_stream(client: RelayClient) -> EventStream:
    """Keep an event stream open so the relay sees the device online."""
    stream = client.stream()
    connected = threading.Event()
    stream.on_status = lambda status: connected.set() if status.state == "connected" else None
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()
    # The tests count on this device being online: a stream that never connected is an error.
    assert connected.wait(WAIT_MS / 1000), "the device's event stream did not connect"
    return stream


def make_accounts(relay_url: str) -> Accounts:
    tag = uuid.uuid4().hex[:8]
    user, friend = f"ben{tag}", f"anna{tag}"
    ids = {"phone": f"phone-{tag}", "tablet": f"tablet-{tag}", "friend_phone": f"fphone-{tag}"}

    def device(username: str, key: str, name: str, model: str, platform: str) -> RelayClient:
        client = RelayClient(relay_url)
        client.login(username, PASSWORD, DeviceInfo(ids[key], name, model, platform))
        return client

    RelayClient(relay_url).create_account(user, PASSWORD)
    RelayClient(relay_url).create_account(friend, PASSWORD)
    phone = device(user, "phone", "Ben's Pixel", "Pixel 8", "android")
    tablet = device(user, "tablet", "Ben's iPad", "iPad Air", "ios")
    friend_phone = device(friend, "friend_phone", "Anna's Galaxy", "Galaxy S24", "android")
    phone.request_friend(friend)
    friend_phone.accept_friend(user)
    accounts = Accounts(user, friend, PASSWORD, phone, tablet, friend_phone, ids)
    accounts.streams = [_hold_stream(phone), _hold_stream(friend_phone)]
    return accounts


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".apk": "application/vnd.android.package-archive",
        ".zip": "application/zip",
    }

    def log_message(self, *args) -> None:  # keep test output clean
        pass


class StaticSite:
    """Serves a folder on 127.0.0.1 from a thread."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def write(self, name: str, content: str | bytes) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return f"{self.url}/{name}"

    def start(self) -> None:
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class SenderHarness:
    """A SenderApp for a test, with helpers to load pages and click links."""

    def __init__(self, qtbot, data_dir: Path, relay_url: str, username: str, password: str):
        from desktop_sender.app import SenderApp, SenderOptions
        from desktop_sender.profile import SenderProfile

        self.qtbot = qtbot
        self.data_dir = data_dir
        self.downloads = data_dir / "downloads"
        profile = SenderProfile("test", data_dir, use_keyring=False)
        self.app = SenderApp(
            profile,
            SenderOptions(
                relay_url=relay_url,
                username=username,
                password=password,
                device_name="Test laptop",
                downloads_dir=str(self.downloads),
                interactive=False,
                off_the_record=True,
            ),
        )
        self.window = self.app.window
        self.picker = self.window.picker
        self.panel = self.window.pushes_panel
        self.window.resize(1280, 820)
        self.sent: list[list[Push]] = []
        self.app.push_sent.connect(self.sent.append)

    def start(self) -> None:
        failures: list[str] = []
        self.app.sign_in_failed.connect(failures.append)
        self.app.start()
        self.qtbot.waitUntil(lambda: bool(self.app.username or failures), timeout=WAIT_MS)
        assert not failures, f"sign-in failed: {failures}"
        self.wait_loaded()

    def wait_loaded(self) -> None:
        self.qtbot.waitUntil(lambda: self.window.browser.url().scheme() == "http", timeout=WAIT_MS)
        self.qtbot.waitUntil(lambda: self.js("document.readyState") == "complete", timeout=WAIT_MS)

    def load(self, url: str) -> None:
        from PySide6.QtCore import QUrl

        with self.qtbot.waitSignal(self.window.browser.loadFinished, timeout=WAIT_MS):
            self.window.browser.load(QUrl(url))

    def js(self, script: str, timeout: int = WAIT_MS):
        """Run JavaScript in the page and return its result."""
        result = []
        self.window.browser.page().runJavaScript(script, 0, result.append)
        self.qtbot.waitUntil(lambda: bool(result), timeout=timeout)
        return result[0]

    def click(self, selector: str) -> None:
        found = self.js(
            f"(function(){{var e=document.querySelector({selector!r}); if(!e) return 'missing'; e.click(); return 'clicked';}})()"
        )
        assert found == "clicked", f"no element {selector} on {self.window.browser.url().toString()}"

    def open_picker_by_click(self, selector: str) -> None:
        self.click(selector)
        self.qtbot.waitUntil(lambda: self.picker.isVisible() and bool(self.picker.rows), timeout=WAIT_MS)

    def send(self, button) -> list[Push]:
        count = len(self.sent)
        from PySide6.QtCore import Qt

        assert button.isEnabled(), f"{button.text()} is disabled"
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        try:
            self.qtbot.waitUntil(lambda: len(self.sent) > count or self.picker.error_label.isVisible(), timeout=WAIT_MS)
        except Exception:
            import faulthandler
            import sys

            faulthandler.dump_traceback(sys.stderr, all_threads=True)
            raise AssertionError(
                f"no push sent; picker visible={self.picker.isVisible()} sending={self.picker._sending} button={button.text()!r}"
            )
        assert len(self.sent) > count, f"push refused: {self.picker.error_label.text()}"
        return self.sent[-1]

    def close(self) -> None:
        from PySide6.QtCore import QCoreApplication, QEvent

        self.app.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.qtbot.wait(50)
