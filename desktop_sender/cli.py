"""``appbeam sender``: the desktop sender's flags and start-up.

Imports nothing from Qt at module level: ``appbeam_devtools.cli`` imports every part's cli module to
build its parser, and ``appbeam relay`` must not load Qt.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotations only: nothing from Qt is imported at run time here
    from PySide6.QtCore import QCoreApplication, QTranslator

    from desktop_sender.app import SenderApp

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sender's flags."""
    parser.add_argument("--profile", default="default", help="profile name: settings, device id and token per profile")
    parser.add_argument("--data-dir", help="keep this profile's data here (default: the platform's data folder)")
    parser.add_argument(
        "--relay",
        metavar="URL",
        default=os.environ.get("APPBEAM_RELAY", ""),
        help="the relay's address, e.g. http://127.0.0.1:8765",
    )
    parser.add_argument("--username", help="account to sign in with (skips the first-run dialog with --password)")
    parser.add_argument("--password", default=os.environ.get("APPBEAM_PASSWORD"), help="password (or APPBEAM_PASSWORD)")
    parser.add_argument("--device-name", help="this computer's name in device lists")
    parser.add_argument("--create-account", action="store_true", help="create the account first if it does not exist")
    parser.add_argument("--url", help="start page (default: the relay's store)")
    parser.add_argument("--downloads-dir", help="where normal downloads are saved (default: the Downloads folder)")
    parser.add_argument("--headless", action="store_true", help="run without a screen (Qt offscreen platform)")
    parser.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window once the start page has loaded")
    parser.add_argument(
        "--tour",
        metavar="DIR",
        help="headless demo: send one app to an own device, saving screenshots to DIR, then quit",
    )
    parser.add_argument(
        "--lang",
        type=window_language,
        metavar="LANG",
        help="the window's language: zh_CN (Simplified Chinese) or en (default: the system's, from LANG/LC_ALL)",
    )
    parser.add_argument(
        "--quit-after", type=float, metavar="SECONDS", help="quit after this many seconds (demos, smoke tests)"
    )


def window_language(value: str) -> str:
    """``--lang``: a language the sender speaks (``en``, ``zh_CN``, also ``zh-CN``, ``zh``,
    ``en_GB.UTF-8``); anything else is refused by argparse with the list, not quietly shown in English."""
    from desktop_sender.i18n import LANGUAGES

    code = value.replace("-", "_").split(".")[0].split("@")[0].lower()
    if code in ("zh_tw", "zh_hk", "zh_mo", "zh_hant") or not code.startswith(("en", "zh")):
        raise argparse.ArgumentTypeError(
            f"the sender does not speak {value!r}: choose {' or '.join(LANGUAGES)} (English or Simplified Chinese)"
        )
    return value


def run(args: argparse.Namespace) -> int:
    """Start the sender and run until its window closes."""
    from desktop_sender.qt_env import prepare_qt_environment

    prepare_qt_environment(headless=args.headless)
    # QtWebEngineWidgets must be imported before the QApplication exists.
    from PySide6 import QtWebEngineWidgets  # noqa: F401
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_sender.app import SenderApp, SenderOptions
    from desktop_sender.profile import SenderProfile

    app = QApplication.instance() or QApplication([sys.argv[0] or "appbeam"])
    app.setApplicationName("Appbeam")
    set_language(app, args)
    profile = SenderProfile(args.profile, args.data_dir)
    options = SenderOptions(
        relay_url=args.relay or "",
        username=args.username or "",
        password=args.password or "",
        device_name=args.device_name or "",
        create_account=args.create_account,
        start_url=args.url or "",
        downloads_dir=args.downloads_dir or "",
        interactive=not args.headless,
    )
    sender = SenderApp(profile, options)
    sender.sign_in_failed.connect(lambda message: log.error("sign-in failed: %s", message))
    if args.screenshot:
        _screenshot_when_loaded(sender, args.screenshot)
    if args.tour:
        from appbeam_devtools.sender_tour import SenderTour

        SenderTour(sender, args.tour).start()
    if args.quit_after:
        QTimer.singleShot(int(args.quit_after * 1000), app.quit)
    app.aboutToQuit.connect(sender.shutdown)
    sender.start()
    status = app.exec()
    # Destroy the page and window before the browser profile, while Qt can still do it in
    # order: left to Python's garbage collector, Chromium may crash on the way out.
    from PySide6.QtCore import QCoreApplication, QEvent

    sender.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return status


def set_language(app: QCoreApplication, args: argparse.Namespace) -> list[QTranslator]:
    """Speak ``--lang`` (or the system's language) in every window, Qt's own dialogs included;
    the translators installed, for a caller that wants to take them out again."""
    from desktop_sender.i18n import choose_language, install_translators

    return install_translators(app, choose_language(getattr(args, "lang", None)))


def _screenshot_when_loaded(sender: SenderApp, path: str) -> None:
    from PySide6.QtCore import QTimer

    def grab() -> None:
        sender.window.grab().save(path)
        log.info("screenshot saved to %s", path)

    def save(_ok: bool) -> None:
        # Give Chromium a moment to paint the loaded page before grabbing it.
        QTimer.singleShot(800, grab)

    sender.window.browser.loadFinished.connect(save)
