"""Render the sender's main screens to PNG files: ``python -m appbeam_devtools.sender_screenshots OUTDIR``.

Starts a real relay (subprocess, temporary data directory, free port on 127.0.0.1), signs
up an account with a phone (online), a tablet (offline), an old Symbian phone (cannot take
the app) and a friend's phone, opens the relay's store in the sender, clicks an app's
download button and saves:

- ``sender-picker.png``: the device picker over the store page;
- ``sender-picker-friend.png``: a friend's device chosen, "Install now" disabled;
- ``sender-pushes.png``: after sending, the notice and the Pushes panel with live states;
- ``sender-add-phone.png``: the Add a phone dialog with a real pairing code;
- ``sender-relay-down.png``: the picker when the relay cannot be reached;
- ``sender-setup.png``: the first-run dialog.

``--lang zh_CN`` renders them in another language, ``--size 900x600`` in a smaller window and
``--scale 1.5`` as on a high-density screen (``QT_SCALE_FACTOR``); each adds itself to the file
names (``sender-picker-zh_CN-900x600-1.5x.png``), so the pictures of every run sit side by side.
English is the default whatever the system speaks: the README's pictures do not depend on it.
"""

from __future__ import annotations

import argparse
import logging
import os
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


def file_suffix(lang: str | None, size: tuple[int, int] | None, scale: float | None) -> str:
    """``-zh_CN-900x600-1.5x`` for a run with those options; "" for the default one."""
    parts = [lang or "", f"{size[0]}x{size[1]}" if size else "", f"{scale:g}x" if scale and scale != 1 else ""]
    return "".join(f"-{p}" for p in parts if p)


def render(
    outdir: Path, lang: str | None = None, size: tuple[int, int] | None = None, scale: float | None = None
) -> list[Path]:
    """Render every screen into ``outdir``; returns the files written."""
    if scale:
        os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"  # read when the QApplication starts
    prepare_qt_environment(headless=True)
    from PySide6 import QtWebEngineWidgets  # noqa: F401  (before QApplication)
    from PySide6.QtWidgets import QApplication

    from appbeam_devtools.local_relay import LocalRelay
    from desktop_sender.app import SenderApp, SenderOptions
    from desktop_sender.profile import SenderProfile

    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["appbeam-screenshots"])
    from PySide6.QtCore import QCoreApplication

    from desktop_sender.i18n import choose_language, install_translators

    install_translators(app, choose_language(lang or "en"))
    suffix = file_suffix(lang, size, scale)

    def shot(name: str) -> Path:
        return outdir / f"{name}{suffix}.png"

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
            window.resize(*(size or (1360, 860)))
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
            written.append(_save(window, shot("sender-picker")))

            window.picker.row_for("ben-ipad").checkbox.setChecked(False)
            window.picker.row_for("anna-galaxy").checkbox.setChecked(True)
            settle(app, 0.3)
            written.append(_save(window, shot("sender-picker-friend")))

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

            by_device = {p.device_id: p.id for batch in sent for p in batch}
            devices["pixel"].report(by_device["ben-pixel"], "delivered")
            devices["pixel"].report(by_device["ben-pixel"], "downloading", bytes_done=370_000, bytes_total=1_000_000)
            devices["anna"].report(by_device["anna-galaxy"], "delivered")
            wait_until(
                app,
                lambda: "37%" in window.pushes_panel.rows[by_device["ben-pixel"]].state_label.text(),
                what="Downloading 37%",
            )
            settle(app, 0.8)
            written.append(_save(window, shot("sender-pushes")))

            # Add a phone: a real pairing code from the relay.
            window.notice.hide()
            add_phone = sender.show_add_phone()
            wait_until(app, lambda: len(add_phone.code_label.text()) > 1, what="a pairing code")
            # Its full height: offscreen's small virtual screen would squeeze it at a scale of 1.5.
            add_phone.resize(add_phone.width(), max(add_phone.height(), add_phone.sizeHint().height()))
            settle(app, 0.5)
            written.append(_save(add_phone, shot("sender-add-phone")))
            add_phone.accept()

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
                app,
                lambda: (
                    QCoreApplication.translate("PushesPanel", "Reconnecting to the relay…")
                    in window.pushes_panel.connection_label.text()
                ),
                what="the stream to notice",
            )
            settle(app, 0.5)
            written.append(_save(window, shot("sender-relay-down")))

            # First run: where the user names the relay and the account.
            from desktop_sender.setup_dialog import SetupDialog
            from desktop_sender.style import STYLE_SHEET

            dialog = SetupDialog(relay.url, "ben", "Ben's laptop")
            dialog.setStyleSheet(STYLE_SHEET)
            dialog.password_edit.setText("secret password")
            dialog.show()
            settle(app, 0.5)
            written.append(_save(dialog, shot("sender-setup")))
            dialog.close()
            sender.close()
            from PySide6.QtCore import QEvent

            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        finally:
            stop_streams()
    return written


def _save(window, path: Path) -> Path:
    if not window.grab().save(str(path)):
        raise RuntimeError(f"could not write {path}")
    log.info("wrote %s", path)
    return path


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 900x600") from None


def main(argv: list[str] | None = None) -> int:
    """Render the screens into the folder given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, nargs="?", default=Path("screenshots"))
    parser.add_argument("--lang", help="the sender's language, e.g. zh_CN (default: English)")
    parser.add_argument("--size", metavar="WxH", type=_size, help="the window's size, e.g. 900x600 (default 1360x860)")
    parser.add_argument("--scale", type=float, help="Qt's scale factor, e.g. 1.5 for a high-density screen")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for path in render(args.outdir, args.lang, args.size, args.scale):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
