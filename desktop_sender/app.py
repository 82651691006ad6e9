"""The sender's controller: wires the browser, the picker, the Pushes panel and the relay.

Flow of one push [1-8]: a package download (or "Send to device...", or ``appbeam.push``)
opens the picker at once with what the link says; the page's JSON-LD is read and the
picker refreshed; the relay is asked for the devices that can take the app's formats; the
user chooses devices and a send button; the relay's answer goes to the Pushes panel and a
notice says where the app is going. Every relay call runs on a worker thread.

It is long (over 700 lines) because it is the one place where the window's signals meet the
relay worker: each flow (sign-in, picker, files, people, pairing, history) is a short section of
slots. Splitting it into one controller per flow is next (issue 13).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QUrl, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile

from desktop_sender.account import sign_in
from desktop_sender.add_phone import AddPhoneDialog
from desktop_sender.downloads import DownloadInterceptor
from desktop_sender.i18n import ensure_translators
from desktop_sender.icons import IconCache
from desktop_sender.install_info import (
    PackageLink,
    info_from_link,
    info_from_page_call,
    local_package_problem,
    local_path,
    resolve_install_info,
    with_clicked_first,
)
from desktop_sender.main_window import MainWindow
from desktop_sender.notice import sent_message
from desktop_sender.page_inspector import collect_json_ld
from desktop_sender.people import PeopleDialog, Questions
from desktop_sender.profile import SenderProfile
from desktop_sender.push_board import PushBoard
from desktop_sender.pushes_panel import PushRow
from desktop_sender.relay_worker import PushEventListener, RelayWorker
from desktop_sender.setup_dialog import SetupDialog
from desktop_sender.signals import emit
from desktop_sender.style import STYLE_SHEET
from desktop_sender.web_api import install_web_api
from shared.api_messages import Device, Friend, Pairing, Session
from shared.explain import explain, relay_place
from shared.i18n import accept_language
from shared.messages import InstallInfo, Push
from shared.protocol import ProtocolError
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError

log = logging.getLogger(__name__)


class _Closable(Protocol):
    closed: bool


_Owner = TypeVar("_Owner", bound=_Closable)
_Args = ParamSpec("_Args")


def _unless_closed(
    method: Callable[Concatenate[_Owner, _Args], None],
) -> Callable[Concatenate[_Owner, _Args], None]:
    """Skip a slot once the sender is closed: answers already queued by worker threads
    still arrive after ``close()``, and the widgets they would touch are gone."""

    @functools.wraps(method)
    def wrapper(self: _Owner, /, *args: _Args.args, **kwargs: _Args.kwargs) -> None:
        if self.closed:
            return
        method(self, *args, **kwargs)

    return wrapper


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
    """One sender: a window, a relay connection and the logic between them.

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
        self.listener: PushEventListener | None = None
        self.username = ""
        self._pick_serial = 0
        self._setup_dialog: SetupDialog | None = None
        self.closed = False

        self.web_profile = self._make_web_profile()
        install_web_api(self.web_profile)
        self.window = MainWindow(self.web_profile, self._home_url())
        self.window.setStyleSheet(STYLE_SHEET)
        self.icons = IconCache(self.worker, self)
        downloads = Path(options.downloads_dir) if options.downloads_dir else _default_downloads_dir(profile)
        self.interceptor = DownloadInterceptor(self.web_profile, downloads, self)

        self.interceptor.package_requested.connect(self._on_package_requested)
        self.interceptor.package_refused.connect(self._on_package_refused)
        self.interceptor.download_started.connect(self.window.downloads_indicator.track)
        self.window.browser.send_link_requested.connect(self._on_send_link_requested)
        self.window.browser.bridge.push_requested.connect(self._on_page_push_requested)
        self.window.account_clicked.connect(self.show_setup_dialog)
        self.window.add_phone_clicked.connect(self.show_add_phone)
        self.add_phone_dialog: AddPhoneDialog | None = None
        self.window.people_clicked.connect(self.show_people)
        self.window.files_chosen.connect(self.send_files)
        self.people_dialog: PeopleDialog | None = None
        picker = self.window.picker
        picker.push_requested.connect(self._on_push_requested)
        self.upload_progressed.connect(self._on_upload_progressed)
        picker.save_requested.connect(self._on_save_requested)
        picker.retry_requested.connect(self._on_retry_requested)
        self.window.pushes_panel.cancel_requested.connect(self._on_cancel_requested)
        self.window.pushes_panel.resend_requested.connect(self._on_resend_requested)
        self.window.pushes_panel.clear_requested.connect(self._on_clear_requested)

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
        self._open_start_page()
        settings = self.profile.settings
        if self.options.username and self.options.password and not self.client.token:
            self._sign_in(
                settings.relay_url,
                self.options.username,
                self.options.password,
                settings.device_name,
                self.options.create_account,
            )
        elif self.client.token and settings.username:
            self._on_signed_in(settings.username)
        elif self.options.interactive:
            self.show_setup_dialog()
        else:
            problem = self.tr("Not signed in: start with --username and --password.")
            self.window.set_account("", "", problem=problem)
            emit(self.sign_in_failed, problem)

    def _open_start_page(self) -> None:
        url = self.options.start_url or self._home_url()
        self.window.home_url = self._home_url()
        if url:
            self.window.browser.load(QUrl.fromUserInput(url))

    def shutdown(self) -> None:
        """Stop the event stream and let running relay calls end."""
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
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
        for dialog in (self.add_phone_dialog, self.people_dialog):
            if dialog is not None:
                dialog.close()
        self.window.close()
        self.window.browser.page().deleteLater()
        self.window.deleteLater()
        self.web_profile.deleteLater()

    # ------------------------------------------------------------------ signing in

    def show_setup_dialog(self, error: str = "", username: str = "") -> None:
        """Ask for the relay and the account (first run, the account chip, or after a failed
        sign-in: then with the reason shown and the fields as they were)."""
        settings = self.profile.settings
        if self._setup_dialog is not None:
            self._setup_dialog.set_error(error)
            return
        dialog = SetupDialog(
            settings.relay_url,
            username or settings.username,
            settings.device_name or self.profile.device_info().name,
            self.window,
            fingerprint=self.client.key.fingerprint if self.client.key else "",
        )
        dialog.setStyleSheet(STYLE_SHEET)
        dialog.sign_in_requested.connect(self._on_dialog_sign_in)
        dialog.finished.connect(self._on_setup_dialog_closed)
        self._setup_dialog = dialog
        if error:
            dialog.set_error(error)
        dialog.open()

    def _on_setup_dialog_closed(self, _result: int) -> None:
        self._setup_dialog = None

    def _on_dialog_sign_in(self, relay_url: str, username: str, password: str, device_name: str, create: bool) -> None:
        self._sign_in(relay_url, username, password, device_name, create)

    def _sign_in(self, relay_url: str, username: str, password: str, device_name: str, create: bool) -> None:
        settings = self.profile.settings
        settings.relay_url = relay_url.rstrip("/")
        if device_name:
            settings.device_name = device_name
        self.client.base_url = settings.relay_url + "/"
        self.client.token = None
        call = self.worker.submit(
            "sign_in", sign_in, self.client, username, password, self.profile.device_info(), create
        )
        call.succeeded.connect(lambda answer, u=username: self._on_sign_in_done(u, answer))
        call.failed.connect(lambda error, u=username: self._on_sign_in_error(u, error))

    @_unless_closed
    def _on_sign_in_done(self, username: str, answer: Session) -> None:
        settings = self.profile.settings
        settings.username = username
        self.profile.save()
        self.profile.tokens.save(answer.token)
        if self._setup_dialog is not None:
            self._setup_dialog.accept()
            self._setup_dialog = None
        self._open_start_page()
        self._on_signed_in(username)

    @_unless_closed
    def _on_sign_in_error(self, username: str, error: RelayError) -> None:
        message = relay_error_text(error, self.client.base_url)
        log.warning("sign-in as %s failed: %s (%s)", username, message, error)
        self.window.set_account("", "", problem=message)
        if self._setup_dialog is not None or self.options.interactive:
            # Say why, and keep what was typed: the relay address and the username stay filled in.
            self.show_setup_dialog(error=message, username=username)
        emit(self.sign_in_failed, message)

    @_unless_closed
    def _on_signed_in(self, username: str) -> None:
        self.username = username
        self.window.set_account(username, self.profile.device_info().name)
        self.window.pushes_panel.username = username
        self._start_listener()
        self.load_pushes()
        emit(self.signed_in, username)

    def _start_listener(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.listener = PushEventListener(self.client, self)
        self.listener.push_updated.connect(self._on_push_update)
        self.listener.status_changed.connect(self._on_stream_status)
        self.listener.stream_failed.connect(self._on_stream_failed)
        self.listener.start()

    # ------------------------------------------------------------------ adding a phone

    def show_add_phone(self) -> AddPhoneDialog:
        """Show a pairing code for a new phone (a fresh one from the relay)."""
        if self.add_phone_dialog is None:
            dialog = AddPhoneDialog(self.window)
            dialog.setStyleSheet(STYLE_SHEET)
            dialog.new_code_requested.connect(self._request_pairing)
            self.add_phone_dialog = dialog
        self.add_phone_dialog.open()
        self._request_pairing()
        return self.add_phone_dialog

    def _request_pairing(self) -> None:
        if self.add_phone_dialog is None:
            return
        if not self.client.token:
            self.add_phone_dialog.set_error(
                self.tr("Sign this computer in first: click the account chip in the toolbar.")
            )
            return
        call = self.worker.call(self.client.create_pairing)
        call.succeeded.connect(self._on_pairing)
        call.failed.connect(self._on_pairing_failed)

    @_unless_closed
    def _on_pairing(self, pairing: Pairing) -> None:
        if self.add_phone_dialog is not None:
            self.add_phone_dialog.set_pairing(pairing)
            emit(self.pairing_shown, pairing)

    @_unless_closed
    def _on_pairing_failed(self, error: RelayError) -> None:
        if self.add_phone_dialog is not None:
            self.add_phone_dialog.set_error(
                self.tr("No code this time. {reason}").format(reason=relay_error_text(error, self.client.base_url))
            )

    # ------------------------------------------------------------------ files from this computer

    @_unless_closed
    def send_files(self, paths: list[str]) -> None:
        """Packages dropped on the window or chosen with Send a file: the first one opens the
        picker with its real name and version (read from the package), or says why it cannot go."""
        path = Path(paths[0])
        link = PackageLink(url=path.resolve().as_uri(), file_name=path.name)
        if not link.format:
            self.window.statusBar().showMessage(
                self.tr("{file} is not an app package Appbeam knows (apk, ipa, deb, AppImage, …).").format(
                    file=path.name
                ),
                8000,
            )
            return
        problem = local_package_problem(link)
        if problem:
            self._on_package_refused(link, problem)
            return
        self.open_picker(info_from_link(link), link)
        if len(paths) > 1:
            self.window.statusBar().showMessage(self.tr("One app at a time: send the others after this one."), 8000)

    # ------------------------------------------------------------------ people and devices

    def show_people(self, ask: Questions | None = None) -> PeopleDialog:
        """Friends and this account's devices (``ask`` answers the dialog's questions in tests)."""
        if self.people_dialog is None:
            dialog = PeopleDialog(self.window, ask=ask)
            dialog.setStyleSheet(STYLE_SHEET)
            dialog.invite_requested.connect(
                lambda u: self._people_call(
                    self.client.request_friend, u, done=self.tr("Invitation sent to {username}.").format(username=u)
                )
            )
            dialog.accept_requested.connect(
                lambda u: self._people_call(
                    self.client.accept_friend, u, done=self.tr("You and {username} are friends now.").format(username=u)
                )
            )
            dialog.remove_friend_requested.connect(lambda u: self._people_call(self.client.remove_friend, u, done=""))
            dialog.rename_requested.connect(
                lambda d, n: self._people_call(self.client.rename_device, d, n, done=self.tr("Renamed."))
            )
            dialog.remove_device_requested.connect(
                lambda d: self._people_call(
                    self.client.remove_device, d, done=self.tr("Removed: it is signed out and gets no more apps.")
                )
            )
            self.people_dialog = dialog
        self.people_dialog.open()
        self.refresh_people()
        return self.people_dialog

    def refresh_people(self) -> None:
        if self.people_dialog is None or not self.client.token:
            if self.people_dialog is not None:
                self.people_dialog.show_message(
                    self.tr("Sign this computer in first: click the account chip."), error=True
                )
            return
        friends = self.worker.call(self.client.friends)
        friends.succeeded.connect(self._on_people_friends)
        friends.failed.connect(self._on_people_failed)
        devices = self.worker.call(self.client.devices)
        devices.succeeded.connect(self._on_people_devices)
        devices.failed.connect(self._on_people_failed)

    @_unless_closed
    def _on_people_friends(self, friends: list[Friend]) -> None:
        if self.people_dialog is not None:
            self.people_dialog.set_friends(friends)

    @_unless_closed
    def _on_people_devices(self, devices: list[Device]) -> None:
        if self.people_dialog is not None:
            self.people_dialog.set_devices(devices, self.profile.device_info())
        emit(self.people_loaded)

    def _people_call(self, method: Callable[..., Any], *args: Any, done: str) -> None:
        call = self.worker.call(method, *args)
        call.succeeded.connect(lambda _answer: self._on_people_done(done))
        call.failed.connect(self._on_people_failed)

    @_unless_closed
    def _on_people_done(self, done: str) -> None:
        if self.people_dialog is not None:
            self.people_dialog.show_message(done)
        self.refresh_people()

    @_unless_closed
    def _on_people_failed(self, error: RelayError) -> None:
        if self.people_dialog is not None:
            self.people_dialog.show_message(relay_error_text(error, self.client.base_url), error=True)

    # ------------------------------------------------------------------ the picker

    def open_picker(self, info: InstallInfo, link: PackageLink | None, page: QWebEnginePage | None = None) -> int:
        """Open the picker for one app; reads the page's JSON-LD when a page is given."""
        self._pick_serial += 1
        serial = self._pick_serial
        self.window.show_picker()
        self.window.picker.open_for(info, link)
        self._load_icon(info, serial)
        if page is not None and link is not None:
            collect_json_ld(page, functools.partial(self._on_json_ld, serial, link), self)
        else:
            self._request_devices(serial)
        return serial

    @_unless_closed
    def _on_package_requested(self, link: PackageLink, page: QWebEnginePage | None) -> None:
        self.open_picker(info_from_link(link), link, page)

    @_unless_closed
    def _on_package_refused(self, link: PackageLink, why: str) -> None:
        """A local file that is not the package it claims to be: say why in the picker."""
        self._pick_serial += 1
        self.window.show_picker()
        self.window.picker.open_for(info_from_link(link), link)
        self.window.picker.set_problem(why)

    @_unless_closed
    def _on_send_link_requested(self, url: str, text: str) -> None:
        page = self.window.browser.page()
        link = PackageLink(url=url, page_url=page.url().toString())
        self.open_picker(info_from_link(link), link, page)

    @_unless_closed
    def _on_page_push_requested(self, value: Any, page_url: str) -> None:
        try:
            info = info_from_page_call(value, page_url)
        except ProtocolError as exc:
            self.window.statusBar().showMessage(
                self.tr("The page asked to send an app, but its install information is unusable: {reason}").format(
                    reason=exc
                ),
                8000,
            )
            return
        url = info.packages[0].url if info.packages else ""
        self.open_picker(info, PackageLink(url=url, page_url=page_url), None)

    @_unless_closed
    def _on_json_ld(self, serial: int, link: PackageLink, items: list[Any], base: str) -> None:
        if serial != self._pick_serial:
            return
        if base:
            link = replace(link, page_url=base)
        info, from_page = resolve_install_info(link, items)
        info = with_clicked_first(info, link.format)
        log.info("install info for %s from %s", info.id, "the page's JSON-LD" if from_page else "the link")
        picker = self.window.picker
        if picker.isVisible():
            picker.link = link
            picker.set_info(info)
            self._load_icon(info, serial)
        if not info.packages and not from_page:
            # A link that is no package and no app the page describes: nothing a device could install.
            picker.set_problem(
                self.tr("{file} is not an app package Appbeam knows (apk, ipa, deb, AppImage, …).").format(
                    file=link.display_name
                )
            )
            return
        self._request_devices(serial)

    def _load_icon(self, info: InstallInfo, serial: int) -> None:
        def show(pixmap: QPixmap, url: str | None = info.icon_url) -> None:
            if serial == self._pick_serial and not self.closed:
                self.window.picker.set_icon(pixmap, url)

        self.icons.load(info.icon_url, show)

    def _request_devices(self, serial: int) -> None:
        picker = self.window.picker
        if not self.client.token:
            picker.set_relay_error(
                self.tr(
                    "This computer is not signed in to a relay yet. Click the account chip in the toolbar to sign in."
                )
            )
            return
        picker.set_loading()
        formats = picker.info.formats if picker.info else ()
        app_id = picker.info.id if picker.info else None
        call = self.worker.call(self.client.devices, formats, app_id=app_id)
        call.succeeded.connect(lambda devices, s=serial: self._on_devices(s, devices))
        call.failed.connect(lambda error, s=serial: self._on_devices_error(s, error))

    @_unless_closed
    def _on_devices(self, serial: int, devices: list[Device]) -> None:
        if serial == self._pick_serial and self.window.picker.isVisible():
            self.window.picker.set_devices(devices)

    @_unless_closed
    def _on_devices_error(self, serial: int, error: RelayError) -> None:
        if serial == self._pick_serial and self.window.picker.isVisible():
            self.window.picker.set_relay_error(relay_error_text(error, self.client.base_url), detail=str(error))

    def _on_retry_requested(self) -> None:
        self._request_devices(self._pick_serial)

    def _on_save_requested(self, url: str) -> None:
        self.interceptor.save_instead(self.window.browser.page(), url)

    def _on_push_requested(self, info: InstallInfo, mode: str, device_ids: list[str]) -> None:
        serial = self._pick_serial
        link = self.window.picker.link
        path = local_path(link.url) if link is not None else None
        if link is not None and path is not None:
            # A file on this computer: the phone cannot fetch it from here, so it goes up to the
            # relay first (nothing is sent when the relay has it already) and the relay's copy is pushed.
            problem = local_package_problem(link)
            if problem:  # moved or changed since the picker opened
                self.window.picker.set_send_error(problem)
                return
            self.window.picker.set_upload_progress(0, info.size)
            call = self.worker.call(
                self.client.push_file,
                path,
                info,
                mode,
                device_ids,
                progress=_Throttled(functools.partial(emit, self.upload_progressed, serial)),
            )
        else:
            call = self.worker.call(self.client.push, info, mode, device_ids)
        call.succeeded.connect(lambda pushes, s=serial, i=info: self._on_pushed(s, i, pushes))
        call.failed.connect(lambda error, s=serial: self._on_push_error(s, error))

    @_unless_closed
    def _on_pushed(self, serial: int, info: InstallInfo, pushes: list[Push]) -> None:
        self.board.add_pushes(pushes)
        self._show_board()
        if serial == self._pick_serial:
            self.window.picker.set_sending(False)
            self.window.close_picker()
        self.window.show_pushes()
        self.window.show_notice(sent_message(info.name or info.id, pushes))
        emit(self.push_sent, pushes)

    @_unless_closed
    def _on_upload_progressed(self, serial: int, done: int, total: int) -> None:
        if serial == self._pick_serial and self.window.picker.isVisible():
            self.window.picker.set_upload_progress(done, total)

    @_unless_closed
    def _on_push_error(self, serial: int, error: RelayError) -> None:
        if serial == self._pick_serial:
            self.window.picker.set_send_error(relay_error_text(error, self.client.base_url))

    # ------------------------------------------------------------------ pushes

    @_unless_closed
    def load_pushes(self) -> None:
        """Ask the relay for every push this computer sent (at start and after each reconnect)."""
        call = self.worker.call(self.client.pushes, "sent")
        call.succeeded.connect(self._on_pushes_loaded)
        call.failed.connect(self._on_pushes_error)

    @_unless_closed
    def _on_pushes_error(self, error: RelayError) -> None:
        self.window.pushes_panel.set_error(
            self.tr("Can't load your pushes: {reason}").format(reason=relay_error_text(error, self.client.base_url))
        )

    @_unless_closed
    def _on_pushes_loaded(self, pushes: list[Push]) -> None:
        self.window.pushes_panel.set_error("")
        self.board.add_pushes(pushes)
        self._show_board()
        emit(self.pushes_loaded)

    @_unless_closed
    def _show_board(self) -> None:
        panel = self.window.pushes_panel
        entries = self.board.entries()
        panel.set_entries(entries)
        for entry in entries:
            row = panel.rows[entry.push_id]
            self.icons.load(entry.icon_url, functools.partial(self._on_row_icon, row))

    def _on_row_icon(self, row: PushRow, pixmap: QPixmap) -> None:
        if not self.closed:
            row.set_icon(pixmap)

    @_unless_closed
    def _on_push_update(self, update: dict[str, Any]) -> None:
        entry = self.board.apply_update(update)
        if entry is not None:
            self.window.pushes_panel.update_entry(entry)
            return
        push_id = str(update.get("push_id") or "")
        if push_id and push_id not in self.board:
            # A push this computer sent that the list has not caught up with yet.
            call = self.worker.call(self.client.get_push, push_id)
            call.succeeded.connect(self._on_push_fetched)

    @_unless_closed
    def _on_push_fetched(self, push: Push) -> None:
        self.board.add_pushes([push])
        self._show_board()

    @_unless_closed
    def _on_stream_status(self, state: str, error: str) -> None:
        self.window.pushes_panel.set_connection(state, error)
        if state == "connected" and len(self.board):
            self.load_pushes()  # catch up on anything that changed while disconnected

    @_unless_closed
    def _on_stream_failed(self, error: RelayError) -> None:
        if error.status == 401:
            self.profile.tokens.clear()
            self.client.token = None
            self.window.set_account("", "")
            self.window.pushes_panel.set_error(
                self.tr("The relay signed this computer out. Click the account chip to sign in again.")
            )
        else:
            self.window.pushes_panel.set_error(
                self.tr("Live updates stopped. {reason}").format(reason=relay_error_text(error, self.client.base_url))
            )

    def _on_resend_requested(self, push_id: str) -> None:
        """Send a push that did not arrive again: the same app, mode and device, as a new push."""
        entry = self.board.get(push_id)
        if entry is None:
            return
        try:
            info = InstallInfo.from_dict(entry.app)
        except ProtocolError:
            info = InstallInfo(id=entry.app_id)
        call = self.worker.call(self.client.push, info, entry.requested_mode, [entry.device_id])
        call.succeeded.connect(lambda pushes, i=info: self._on_resent(i, pushes))
        call.failed.connect(
            lambda error: self.window.pushes_panel.set_error(
                self.tr("Not sent again. {reason}").format(reason=relay_error_text(error, self.client.base_url))
            )
        )

    @_unless_closed
    def _on_resent(self, info: InstallInfo, pushes: list[Push]) -> None:
        self.board.add_pushes(pushes)
        self._show_board()
        self.window.show_notice(sent_message(info.name or info.id, pushes))
        emit(self.push_sent, pushes)

    def _on_clear_requested(self) -> None:
        """Hide the finished pushes, now and after a restart (the relay keeps its history)."""
        now = datetime.now(UTC).isoformat()
        self.board.clear_finished(now)
        self.profile.settings.extra["pushes_cleared_at"] = now
        self.profile.save()
        self._show_board()

    def _on_cancel_requested(self, push_id: str) -> None:
        call = self.worker.call(self.client.cancel_push, push_id)
        call.succeeded.connect(self._on_push_fetched)
        call.failed.connect(lambda error, p=push_id: self._on_cancel_failed(p, error))

    @_unless_closed
    def _on_cancel_failed(self, push_id: str, error: RelayError) -> None:
        self.window.pushes_panel.set_error(
            self.tr("Can't cancel: {reason}").format(reason=relay_error_text(error, self.client.base_url))
        )
        entry = self.board.get(push_id)
        if entry is not None:
            self.window.pushes_panel.update_entry(entry)


class _Throttled:
    """An upload's progress callback that passes on only whole-percent steps (and the end)."""

    def __init__(self, report: Callable[[int, int], None]):
        self._report = report
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if percent != self._last:
            self._last = percent
            self._report(done, total)


def relay_error_text(error: Exception, relay_url: str) -> str:
    """A relay failure as a sentence for the user (``shared.explain``); the detail goes to the log."""
    return explain(error, place=relay_place(relay_url)).text


def _default_downloads_dir(profile: SenderProfile) -> Path:
    from PySide6.QtCore import QStandardPaths

    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    return Path(location) if location else profile.directory / "downloads"
