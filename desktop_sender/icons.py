"""App icons: fetched off the UI thread, cached by URL, a letter icon until (or unless) they come."""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
from PySide6.QtCore import QObject
from PySide6.QtGui import QPixmap

from desktop_sender.relay_worker import RelayWorker

log = logging.getLogger(__name__)

MAX_ICON_BYTES = 2 * 1024 * 1024


def fetch_icon_bytes(url: str, timeout: float = 5.0) -> bytes:
    """Download an icon (worker thread only); refuses anything larger than an icon should be."""
    with requests.get(url, timeout=timeout, stream=True, headers={"User-Agent": "appbeam-sender/0.1"}) as resp:
        resp.raise_for_status()
        data = resp.raw.read(MAX_ICON_BYTES + 1, decode_content=True)
    if len(data) > MAX_ICON_BYTES:
        raise ValueError(f"icon at {url} is larger than {MAX_ICON_BYTES} bytes")
    return data


class IconCache(QObject):
    """Icons by URL; ``load(url, callback)`` calls back with a QPixmap on the UI thread."""

    def __init__(self, worker: RelayWorker, parent: QObject | None = None):
        super().__init__(parent)
        self._worker = worker
        self._pixmaps: dict[str, QPixmap] = {}
        self._waiting: dict[str, list[Callable[[QPixmap], None]]] = {}

    def load(self, url: str | None, callback: Callable[[QPixmap], None]) -> None:
        """Call ``callback(pixmap)`` with the icon at ``url`` once it is here (never for no URL)."""
        if not url:
            return
        if url in self._pixmaps:
            callback(self._pixmaps[url])
            return
        if url in self._waiting:
            self._waiting[url].append(callback)
            return
        self._waiting[url] = [callback]
        call = self._worker.submit("icon", _fetch_safely, url)
        call.succeeded.connect(lambda data, u=url: self._on_fetched(u, data))
        call.failed.connect(lambda _error, u=url: self._waiting.pop(u, None))

    def _on_fetched(self, url: str, data: bytes | None) -> None:
        callbacks = self._waiting.pop(url, [])
        pixmap = QPixmap()
        if not data or not pixmap.loadFromData(data):
            return  # the letter icon stays
        self._pixmaps[url] = pixmap
        for callback in callbacks:
            callback(pixmap)


def _fetch_safely(url: str) -> bytes | None:
    try:
        return fetch_icon_bytes(url)
    except (requests.RequestException, ValueError) as exc:
        log.info("no icon from %s: %s", url, exc)
        return None
