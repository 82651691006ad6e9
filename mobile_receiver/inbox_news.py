"""Telling the screens and the person: the inbox's listeners and its one-line notices.

Listeners hear from whatever thread made the change; they must hand it to their own thread
(Kivy's clock). A broken screen or a failing notification never stops a download.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mobile_receiver.platform.base import DevicePlatform

log = logging.getLogger("mobile_receiver.inbox")

Listener = Callable[[str | None], None]


class InboxNews:
    """Change listeners (a push id, or None for the whole list) and notices (notification + snackbar)."""

    def __init__(self, platform: DevicePlatform):
        self.platform = platform
        self._listeners: list[Listener] = []
        self._notices: list[Callable[[str], None]] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_notice(self, listener: Callable[[str], None]) -> None:
        self._notices.append(listener)

    def changed(self, push_id: str | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(push_id)
            except Exception:  # noqa: BLE001 - a broken screen must not stop downloads
                log.exception("inbox listener failed")

    def notice(self, text: str, title: str = "Appbeam", key: str | None = None) -> None:
        try:
            self.platform.notifier.notify(title, text, key=key)
        except Exception:  # noqa: BLE001 - notifications are best effort
            log.exception("notification failed")
        for listener in list(self._notices):
            listener(text)
