"""Render the sender's main screens to PNG files: ``python -m appbeam_devtools.sender_screenshots OUTDIR``.

Starts a real relay (subprocess, temporary data directory, free port on 127.0.0.1), signs
up an account with a phone (online), a tablet (offline), an old Symbian phone (cannot take
the app) and a friend's phone, opens the relay's store in the sender, clicks an app's
download button and saves:

- ``sender-picker.png``: the device picker over the store page;
- ``sender-picker-friend.png``: a friend's device chosen, "Install now" disabled;
- ``sender-pushes.png``: after sending, the notice and the Pushes panel with live states;
- ``sender-relay-down.png``: the picker when the relay cannot be reached;
- ``sender-setup.png``: the first-run dialog.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from desktop_sender.qt_env import prepare_qt_environment

log = logging.getLogger(__name__)

PASSWORD = "correct horse battery"
APP_ID = "im.vector.app"  # an app with apk and ipa packages in the demo catalog


def wait_until(app, predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Run the Qt event loop until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float) -> None:
    """Let Chromium paint: run the event loop for a while."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def set_up_accounts(relay_url: str):
    """Accounts and devices for the pictures; returns (devices by key, stop function)."""
    from shared.relay_client import DeviceInfo, RelayClient

    def client_for(username: str, device: DeviceInfo, create: bool = True) -> RelayClient:
        client = RelayClient(relay_url)
        if create:
            try:
                client.create_account(username, PASSWORD)
            except Exception:
                pass
        client.login(username, PASSWORD, device)
        return client

    devices = {
        "pixel": client_for("ben", DeviceInfo("ben-pixel", "Ben's Pixel 8", "Pixel 8", "android")),
        "ipad": client_for("ben", DeviceInfo("ben-ipad", "Ben's iPad", "iPad Air", "ios"), create=False),
        "nokia": client_for("ben", DeviceInfo("ben-n8", "Old Nokia", "Nokia N8", "symbian"), create=False),
        "anna": client_for("anna", DeviceInfo("anna-galaxy", "Anna's Galaxy", "Galaxy S24", "android")),
    }
    devices["pixel"].request_friend("anna")
    devices["anna"].accept_friend("ben")
    # Online means holding an event stream: keep the Pixel's and Anna's streams open.
    streams = []
    for key in ("pixel", "anna"):
        stream = devices[key].stream()
        streams.append(stream)
        threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()
    time.sleep(1.0)

    def stop() -> None:
        for stream in streams:
            stream.close()

    return devices, stop


def render(outdir: Path) -> list[Path]:
    """Render every screen into ``outdir``; returns the files written."""
    prepare_qt_environment(headless=True)
    from PySide6 import QtWebEngineWidgets  # noqa: F401  (before QApplication)
    from PySide6.QtWidgets import QApplication

    from appbeam_devtools.local_relay import LocalRelay
    from desktop_sender.app import SenderApp, SenderOptions
    from desktop_sender.profile import SenderProfile

    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["appbeam-screenshots"])
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="appbeam-shots-") as tmp, LocalRelay(Path(tmp) / "relay") as relay:
        devices, stop_streams = set_up_accounts(relay.url)
        try:
            profile = SenderProfile("shots", Path(tmp) / "sender", use_keyring=False)
            sender = SenderApp(
                profile,
                SenderOptions(
                    relay_url=relay.url,
                    username="ben",
                    password=PASSWORD,
                    device_name="Ben's laptop",
                    downloads_dir=str(Path(tmp) / "downloads"),
                    interactive=False,
                    off_the_record=True,
                ),
            )
            window = sender.window
            window.resize(1360, 860)
            loaded = []
            window.browser.loadFinished.connect(loaded.append)
            sender.start()
            wait_until(app, lambda: sender.username == "ben", what="sign-in")
            wait_until(app, lambda: any(loaded), what="the store page")
            settle(app, 1.0)

            def open_picker() -> None:
                window.browser.page().runJavaScript(
                    f"document.querySelector('a.download[data-app-id=\"{APP_ID}\"]').click()"
                )
                wait_until(app, lambda: window.picker.isVisible() and window.picker.rows, what="the picker's devices")
                settle(app, 1.0)

            open_picker()
            window.picker.row_for("ben-ipad").checkbox.setChecked(True)
            settle(app, 0.3)
            written.append(_save(window, outdir / "sender-picker.png"))

            window.picker.row_for("ben-ipad").checkbox.setChecked(False)
            window.picker.row_for("anna-galaxy").checkbox.setChecked(True)
            settle(app, 0.3)
            written.append(_save(window, outdir / "sender-picker-friend.png"))

            # Send to Anna (a notice), then to Ben's own phone and tablet (install now).
            sent = []
            sender.push_sent.connect(sent.append)
            window.picker.notify_button.click()
            wait_until(app, lambda: len(sent) == 1, what="the push to Anna")
            open_picker()
            window.picker.row_for("ben-pixel").checkbox.setChecked(True)
            window.picker.row_for("ben-ipad").checkbox.setChecked(True)
            window.picker.install_button.click()
            wait_until(app, lambda: len(sent) == 2, what="the push to Ben's devices")

            by_device = {p["device_id"]: p["id"] for batch in sent for p in batch}
            devices["pixel"].report(by_device["ben-pixel"], "delivered")
            devices["pixel"].report(by_device["ben-pixel"], "downloading", bytes_done=370_000, bytes_total=1_000_000)
            devices["anna"].report(by_device["anna-galaxy"], "delivered")
            wait_until(
                app,
                lambda: "37%" in window.pushes_panel.rows[by_device["ben-pixel"]].state_label.text(),
                what="Downloading 37%",
            )
            settle(app, 0.8)
            written.append(_save(window, outdir / "sender-pushes.png"))

            # The relay goes away: the picker says so instead of freezing.
            window.notice.hide()
            stop_streams()
            relay.stop()
            open_picker_js = f"document.querySelector('a.download[data-app-id=\"{APP_ID}\"]').click()"
            window.browser.page().runJavaScript(open_picker_js)
            wait_until(
                app,
                lambda: window.picker.isVisible() and window.picker.retry_button.isVisible(),
                what="the relay-down message",
            )
            wait_until(
                app, lambda: "Reconnecting" in window.pushes_panel.connection_label.text(), what="the stream to notice"
            )
            settle(app, 0.5)
            written.append(_save(window, outdir / "sender-relay-down.png"))

            # First run: where the user names the relay and the account.
            from desktop_sender.setup_dialog import SetupDialog
            from desktop_sender.style import STYLE_SHEET

            dialog = SetupDialog(relay.url, "ben", "Ben's laptop")
            dialog.setStyleSheet(STYLE_SHEET)
            dialog.password_edit.setText("secret password")
            dialog.show()
            settle(app, 0.5)
            written.append(_save(dialog, outdir / "sender-setup.png"))
            dialog.close()
            sender.close()
            from PySide6.QtCore import QCoreApplication, QEvent

            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        finally:
            stop_streams()
    return written


def _save(window, path: Path) -> Path:
    if not window.grab().save(str(path)):
        raise RuntimeError(f"could not write {path}")
    log.info("wrote %s", path)
    return path


def main(argv: list[str] | None = None) -> int:
    """Render the screens into the folder given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, nargs="?", default=Path("screenshots"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for path in render(args.outdir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
