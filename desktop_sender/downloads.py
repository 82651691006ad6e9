"""Download interception: an installable package becomes a push request, anything else is saved.

Qt's ``QWebEngineDownloadRequest`` is only valid while ``downloadRequested`` is being
handled. For a package, :class:`DownloadInterceptor` copies what it needs into a plain
:class:`~desktop_sender.install_info.PackageLink`, cancels the request and emits
``package_requested``; nothing is written to disk [1, 0053]. Other downloads are accepted
into the downloads folder and wrapped in a :class:`SavedDownload` with its own signals, so
the rest of the sender never touches Qt's request (qutebrowser's download wrapper idea).

A package on this computer (a ``file://`` address) comes from no web page: its link carries
no page address (so nothing says "from <the page that was open>") and no page is handed on
(the open page's JSON-LD does not describe it: the file itself does, see
``install_info.info_from_link``). A local file that is not the package it is named as (a web
page saved as .apk) is refused at once with the reason: ``package_refused``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QMetaMethod, QObject, QUrl, Signal
from PySide6.QtWebEngineCore import QWebEngineDownloadRequest, QWebEnginePage, QWebEngineProfile

from desktop_sender.install_info import PackageLink, is_local, is_package, local_package_problem
from desktop_sender.signals import emit

log = logging.getLogger(__name__)

_State = QWebEngineDownloadRequest.DownloadState


class SavedDownload(QObject):
    """A normal download being saved to disk, with progress (qutebrowser's wrapper idea)."""

    progress_changed = Signal(int, int)  # received bytes, total bytes (-1 when unknown)
    finished = Signal(str)  # the saved file's path
    failed = Signal(str)  # why it failed, in words

    def __init__(self, request: QWebEngineDownloadRequest, parent: QObject | None = None):
        super().__init__(parent)
        self._request = request
        self.url = request.url().toString()
        self.file_name = request.downloadFileName()
        self.path = str(Path(request.downloadDirectory()) / request.downloadFileName())
        self.done = False
        request.receivedBytesChanged.connect(self._on_progress)
        request.totalBytesChanged.connect(self._on_progress)
        request.stateChanged.connect(self._on_state_changed)

    @property
    def received_bytes(self) -> int:
        """Bytes saved so far."""
        return self._request.receivedBytes()

    @property
    def total_bytes(self) -> int:
        """The file's size, or -1 when the server did not say."""
        return self._request.totalBytes()

    def cancel(self) -> None:
        """Stop the download (the partial file is removed by Qt)."""
        if not self.done:
            self._request.cancel()

    def _on_progress(self, *_args: object) -> None:
        emit(self.progress_changed, self._request.receivedBytes(), self._request.totalBytes())

    def _on_state_changed(self, state: QWebEngineDownloadRequest.DownloadState) -> None:
        if self.done:
            return
        if state == _State.DownloadCompleted:
            self.done = True
            self.path = str(Path(self._request.downloadDirectory()) / self._request.downloadFileName())
            emit(self.finished, self.path)
        elif state == _State.DownloadCancelled:
            self.done = True
            emit(self.failed, "cancelled")
        elif state == _State.DownloadInterrupted:
            self.done = True
            emit(self.failed, self._request.interruptReasonString() or "interrupted")


class DownloadInterceptor(QObject):
    """Decides, for every download of a browser profile, push or save.

    ``package_requested(PackageLink, QWebEnginePage | None)``: an installable package was
    clicked; the page (if still known) is where its JSON-LD can be read.
    ``download_started(SavedDownload)``: a normal download is being saved.
    ``package_refused(PackageLink, str)``: a package on this computer is not what its name says;
    the sentence says why. (With nothing connected to it, the link goes out as
    ``package_requested`` with the page, whose controller then says it is no app package.)
    """

    package_requested = Signal(object, object)
    download_started = Signal(object)
    package_refused = Signal(object, str)

    def __init__(self, profile: QWebEngineProfile, downloads_dir: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self._profile = profile
        self.downloads_dir = Path(downloads_dir)
        self._save_anyway: set[str] = set()
        self.saved: list[SavedDownload] = []
        profile.downloadRequested.connect(self._on_download_requested)

    def save_instead(self, page: QWebEnginePage, url: str) -> None:
        """Download ``url`` to this computer even though it is a package (the picker's fallback)."""
        self._save_anyway.add(url)
        page.download(QUrl(url))

    def _on_download_requested(self, request: QWebEngineDownloadRequest) -> None:
        url = request.url().toString()
        mime = request.mimeType()
        name = request.suggestedFileName() or request.downloadFileName()
        if url in self._save_anyway:
            self._save_anyway.discard(url)
            self._save(request)
            return
        if request.isSavePageDownload() or not is_package(mime, name, url):
            self._save(request)
            return
        page = request.page()
        total = request.totalBytes()
        link = PackageLink(
            url=url,
            file_name=name,
            mime_type=mime,
            total_bytes=total if total > 0 else None,
            page_url=page.url().toString() if page is not None else "",
        )
        # Not saved: the package goes to a device, never to this computer's disk.
        request.cancel()
        log.info("intercepted package %s (%s, %s)", link.display_name, mime or "no MIME type", link.format)
        if is_local(url):
            self._on_local_package(replace(link, page_url=""), page)
            return
        emit(self.package_requested, link, page)

    def _on_local_package(self, link: PackageLink, page: QWebEnginePage | None) -> None:
        problem = local_package_problem(link)
        if problem is None:
            emit(self.package_requested, link, None)
        elif self.isSignalConnected(QMetaMethod.fromSignal(self.package_refused)):
            log.info("refused %s: %s", link.url, problem)
            emit(self.package_refused, link, problem)
        else:
            emit(self.package_requested, link, page)

    def _save(self, request: QWebEngineDownloadRequest) -> None:
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        request.setDownloadDirectory(str(self.downloads_dir))
        download = SavedDownload(request, self)
        self.saved.append(download)
        request.accept()
        log.info("saving %s to %s", download.url, self.downloads_dir)
        emit(self.download_started, download)
