"""The sender: builds the window, the relay client and its worker, and one controller per flow.

What a person does goes through a flow of ``desktop_sender/flows/`` (signing in, choosing devices
in the picker, following pushes, adding a phone, people and devices); this module only makes
the parts they share, starts and stops them, and keeps the signals scripts and tests wait on.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QUrl, Signal
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile

from desktop_sender.add_phone import AddPhoneDialog
from desktop_sender.downloads import DownloadInterceptor
from desktop_sender.flows import relay_error_text
from desktop_sender.flows.adding_a_phone import AddingAPhone
from desktop_sender.flows.choosing_devices import ChoosingDevices
from desktop_sender.flows.following_pushes import FollowingPushes
from desktop_sender.flows.people_and_devices import PeopleAndDevices
from desktop_sender.flows.signing_in import SigningIn
from desktop_sender.i18n import ensure_translators
from desktop_sender.icons import IconCache
from desktop_sender.install_info import PackageLink
from desktop_sender.main_window import MainWindow
from desktop_sender.people import PeopleDialog, Questions
from desktop_sender.profile import SenderProfile
from desktop_sender.push_board import PushBoard
from desktop_sender.relay_worker import PushEventListener, RelayWorker
from desktop_sender.style import STYLE_SHEET
from desktop_sender.web_api import install_web_api
from shared.i18n import accept_language
from shared.messages import InstallInfo
from shared.relay_client import RelayClient

__all__ = ["SenderApp", "SenderOptions", "relay_error_text"]

log = logging.getLogger(__name__)


@dataclass
class SenderOptions:
    """What the command line (or a test) asks of the sender."""

    relay_url: str = ""
    username: str = ""
    password: str = ""
    device_name: str = ""
    create_account: bool = False
    start_url: str = ""
    downloads_dir: str = ""
    interactive: bool = True  # False: never open the setup dialog (demo, tests)
    off_the_record: bool = False  # no cookies or cache on disk (tests)


class SenderApp(QObject):
    """One sender: a window, a relay connection and the flows between them.

    ``signed_in(username)``, ``sign_in_failed(message)``, ``pushes_loaded()`` and
    ``push_sent(list)`` let scripts and tests wait for what happened.
    """

    signed_in = Signal(str)
    sign_in_failed = Signal(str)
    pushes_loaded = Signal()
    push_sent = Signal(list)
    pairing_shown = Signal(object)  # the relay's Pairing
    people_loaded = Signal()
    #: (picker serial, bytes sent, bytes in all) while a file from this computer goes up to the relay;
    #: emitted on a worker thread, delivered on the UI thread.
    upload_progressed = Signal(int, object, object)

    def __init__(self, profile: SenderProfile, options: SenderOptions, parent: QObject | None = None):
        super().__init__(parent)
        ensure_translators(QCoreApplication.instance())  # English plurals when no --lang set one up
        self.profile = profile
        self.options = options
        settings = profile.settings
        if options.relay_url and options.relay_url.rstrip("/") != settings.relay_url.rstrip("/"):
            settings.relay_url = options.relay_url.rstrip("/")
            profile.tokens.clear()  # a token from another relay means nothing here
        if options.device_name:
            settings.device_name = options.device_name
        if options.username and options.username != settings.username:
            profile.tokens.clear()
        profile.save()

        self.client = RelayClient(
            settings.relay_url or "http://127.0.0.1:8765", profile.tokens.load(), key=profile.signing_key
        )
        self.worker = RelayWorker(self.client, self)
        self.board = PushBoard(cleared_at=str(profile.settings.extra.get("pushes_cleared_at", "")))
        self.username = ""
        self.closed = False

        self.web_profile = self._make_web_profile()
        install_web_api(self.web_profile)
        self.window = MainWindow(self.web_profile, self._home_url())
        self.window.setStyleSheet(STYLE_SHEET)
        self.icons = IconCache(self.worker, self)
        downloads = Path(options.downloads_dir) if options.downloads_dir else _default_downloads_dir(profile)
        self.interceptor = DownloadInterceptor(self.web_profile, downloads, self)

        self.interceptor.download_started.connect(self.window.downloads_indicator.track)

        self.signing_in = SigningIn(self)
        self.picking = ChoosingDevices(self)
        self.pushes = FollowingPushes(self)
        self.adding_a_phone = AddingAPhone(self)
        self.people = PeopleAndDevices(self)

    # ------------------------------------------------------------------ start and stop

    def _make_web_profile(self) -> QWebEngineProfile:
        if self.options.off_the_record:
            web = QWebEngineProfile(self)
        else:
            # One storage name per profile directory: two profiles never share cookies.
            digest = hashlib.sha1(str(self.profile.directory).encode()).hexdigest()[:10]
            web = QWebEngineProfile(f"appbeam-{self.profile.name}-{digest}", self)
            web.setPersistentStoragePath(str(self.profile.web_storage_dir))
            web.setCachePath(str(self.profile.web_storage_dir / "cache"))
        # The pages ask in the sender's language, not Chromium's: the relay's store page then
        # speaks what the window speaks (its English / 简体中文 link still switches it).
        web.setHttpAcceptLanguage(accept_language())
        return web

    def _home_url(self) -> str:
        return (self.profile.settings.relay_url.rstrip("/") + "/") if self.profile.settings.relay_url else ""

    def start(self) -> None:
        """Show the window, open the start page and sign in (or ask how to)."""
        self.window.show()
        self.open_start_page()
        settings = self.profile.settings
        if self.options.username and self.options.password and not self.client.token:
            self.signing_in.sign_in(
                settings.relay_url,
                self.options.username,
                self.options.password,
                settings.device_name,
                self.options.create_account,
            )
        elif self.client.token and settings.username:
            self.signing_in.signed_in(settings.username)
        elif self.options.interactive:
            self.signing_in.show_dialog()
        else:
            self.signing_in.not_signed_in()

    def open_start_page(self) -> None:
        """The start page: ``--url``, else the relay's store."""
        url = self.options.start_url or self._home_url()
        self.window.home_url = self._home_url()
        if url:
            self.window.browser.load(QUrl.fromUserInput(url))

    def shutdown(self) -> None:
        """Stop the event stream and let running relay calls end."""
        self.pushes.stop()
        self.worker.drop_pending()
        self.worker.wait_for_done(3000)

    def close(self) -> None:
        """Shut down and destroy the window before the browser profile.

        Chromium warns (and may crash at exit) when a profile goes while a page of it lives.
        """
        if self.closed:
            return  # closed already (twice is harmless)
        self.shutdown()
        self.closed = True
        for dialog in (self.adding_a_phone.dialog, self.people.dialog):
            if dialog is not None:
                dialog.close()
        self.window.close()
        self.window.browser.page().deleteLater()
        self.window.deleteLater()
        self.web_profile.deleteLater()

    # ------------------------------------------------------------------ what scripts and tests call

    @property
    def listener(self) -> PushEventListener | None:
        """The event stream's thread while signed in."""
        return self.pushes.listener

    def show_setup_dialog(self, error: str = "", username: str = "") -> None:
        """Ask for the relay and the account (see :meth:`SigningIn.show_dialog`)."""
        self.signing_in.show_dialog(error, username)

    def show_add_phone(self) -> AddPhoneDialog:
        """Show a pairing code for a new phone."""
        return self.adding_a_phone.show()

    def show_people(self, ask: Questions | None = None) -> PeopleDialog:
        """Friends and this account's devices."""
        return self.people.show(ask)

    def refresh_people(self) -> None:
        self.people.refresh()

    def open_picker(self, info: InstallInfo, link: PackageLink | None, page: QWebEnginePage | None = None) -> int:
        """Open the picker for one app (see :meth:`ChoosingDevices.open_picker`)."""
        return self.picking.open_picker(info, link, page)

    def send_files(self, paths: list[str]) -> None:
        """Send the first of these package files (as if dropped on the window)."""
        self.picking.send_files(paths)

    def load_pushes(self) -> None:
        """Load the list of pushes this computer sent again."""
        self.pushes.load()


def _default_downloads_dir(profile: SenderProfile) -> Path:
    from PySide6.QtCore import QStandardPaths

    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    return Path(location) if location else profile.directory / "downloads"
