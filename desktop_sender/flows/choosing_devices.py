"""Choosing devices: from a package link, a dropped file or a page's ``appbeam.push`` to a push.

Flow of one push [1-8]: a package download (or "Send to device...", or ``appbeam.push``)
opens the picker at once with what the link says; the page's JSON-LD is read and the
picker refreshed; the relay is asked for the devices that can take the app's formats; the
user chooses devices and a send button; a file from this computer goes up to the relay first;
the relay's answer goes to the Pushes panel and a notice says where the app is going.

Each opening of the picker has a serial number: an answer meant for an earlier opening (the
user clicked another app meanwhile) is dropped.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QPixmap
from PySide6.QtWebEngineCore import QWebEnginePage

from desktop_sender.flows import Flow, unless_closed
from desktop_sender.install_info import (
    PackageLink,
    info_from_link,
    info_from_page_call,
    local_package_problem,
    local_path,
    resolve_install_info,
    with_clicked_first,
)
from desktop_sender.notice import sent_message
from desktop_sender.page_inspector import collect_json_ld
from desktop_sender.signals import emit
from shared.api_messages import Device
from shared.messages import InstallInfo, Push
from shared.protocol import ProtocolError
from shared.relay_errors import RelayError

if TYPE_CHECKING:
    from desktop_sender.app import SenderApp

log = logging.getLogger(__name__)


class ChoosingDevices(Flow):
    """Opens the picker for an app, fills it with the relay's devices and sends the push."""

    def __init__(self, app: SenderApp):
        super().__init__(app)
        self.serial = 0  # of the picker's current opening
        interceptor = app.interceptor
        interceptor.package_requested.connect(self._on_package_requested)
        interceptor.package_refused.connect(self._on_package_refused)
        self.window.browser.send_link_requested.connect(self._on_send_link_requested)
        self.window.browser.bridge.push_requested.connect(self._on_page_push_requested)
        self.window.files_chosen.connect(self.send_files)
        picker = self.window.picker
        picker.push_requested.connect(self._on_push_requested)
        picker.save_requested.connect(self._on_save_requested)
        picker.retry_requested.connect(self._on_retry_requested)
        app.upload_progressed.connect(self._on_upload_progressed)

    def open_picker(self, info: InstallInfo, link: PackageLink | None, page: QWebEnginePage | None = None) -> int:
        """Open the picker for one app; reads the page's JSON-LD when a page is given."""
        self.serial += 1
        serial = self.serial
        self.window.show_picker()
        self.window.picker.open_for(info, link)
        self._load_icon(info, serial)
        if page is not None and link is not None:
            collect_json_ld(page, functools.partial(self._on_json_ld, serial, link), self)
        else:
            self._request_devices(serial)
        return serial

    @unless_closed
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

    # ------------------------------------------------------------------ what opens the picker

    @unless_closed
    def _on_package_requested(self, link: PackageLink, page: QWebEnginePage | None) -> None:
        self.open_picker(info_from_link(link), link, page)

    @unless_closed
    def _on_package_refused(self, link: PackageLink, why: str) -> None:
        """A local file that is not the package it claims to be: say why in the picker."""
        self.serial += 1
        self.window.show_picker()
        self.window.picker.open_for(info_from_link(link), link)
        self.window.picker.set_problem(why)

    @unless_closed
    def _on_send_link_requested(self, url: str, text: str) -> None:
        page = self.window.browser.page()
        link = PackageLink(url=url, page_url=page.url().toString())
        self.open_picker(info_from_link(link), link, page)

    @unless_closed
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

    @unless_closed
    def _on_json_ld(self, serial: int, link: PackageLink, items: list[Any], base: str) -> None:
        if serial != self.serial:
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
            if serial == self.serial and not self.closed:
                self.window.picker.set_icon(pixmap, url)

        self.icons.load(info.icon_url, show)

    # ------------------------------------------------------------------ the devices

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

    @unless_closed
    def _on_devices(self, serial: int, devices: list[Device]) -> None:
        if serial == self.serial and self.window.picker.isVisible():
            self.window.picker.set_devices(devices)

    @unless_closed
    def _on_devices_error(self, serial: int, error: RelayError) -> None:
        if serial == self.serial and self.window.picker.isVisible():
            self.window.picker.set_relay_error(self.error_text(error), detail=str(error))

    def _on_retry_requested(self) -> None:
        self._request_devices(self.serial)

    def _on_save_requested(self, url: str) -> None:
        self.app.interceptor.save_instead(self.window.browser.page(), url)

    # ------------------------------------------------------------------ sending

    def _on_push_requested(self, info: InstallInfo, mode: str, device_ids: list[str]) -> None:
        serial = self.serial
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
                progress=_Throttled(functools.partial(emit, self.app.upload_progressed, serial)),
            )
        else:
            call = self.worker.call(self.client.push, info, mode, device_ids)
        call.succeeded.connect(lambda pushes, s=serial, i=info: self._on_pushed(s, i, pushes))
        call.failed.connect(lambda error, s=serial: self._on_push_error(s, error))

    @unless_closed
    def _on_pushed(self, serial: int, info: InstallInfo, pushes: list[Push]) -> None:
        self.board.add_pushes(pushes)
        self.app.pushes.show_board()
        if serial == self.serial:
            self.window.picker.set_sending(False)
            self.window.close_picker()
        self.window.show_pushes()
        self.window.show_notice(sent_message(info.name or info.id, pushes))
        emit(self.app.push_sent, pushes)

    @unless_closed
    def _on_upload_progressed(self, serial: int, done: int, total: int) -> None:
        if serial == self.serial and self.window.picker.isVisible():
            self.window.picker.set_upload_progress(done, total)

    @unless_closed
    def _on_push_error(self, serial: int, error: RelayError) -> None:
        if serial == self.serial:
            self.window.picker.set_send_error(self.error_text(error))


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
