"""The web view: a Chromium page of the sender's profile, with "Send to device..." on links."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from desktop_sender.signals import emit
from desktop_sender.web_api import AppbeamBridge, attach_bridge


class BrowserView(QWebEngineView):
    """A web view whose link menu can send the link to a device.

    ``send_link_requested(url, link_text)``: "Send to device..." was chosen on a link.
    The page's ``appbeam.push(...)`` calls come out of :attr:`bridge`.
    """

    send_link_requested = Signal(str, str)

    def __init__(self, profile: QWebEngineProfile, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPage(QWebEnginePage(profile, self))
        self.bridge: AppbeamBridge = attach_bridge(self.page())

    def link_menu_actions(self, link_url: str, link_text: str) -> list[QAction]:
        """The sender's own entries for a link's context menu."""
        action = QAction(self.tr("Send to device..."), self)
        action.setObjectName("sendToDevice")
        action.triggered.connect(lambda: emit(self.send_link_requested, link_url, link_text))
        return [action]

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one menu per right click, not a pile-up
        request = self.lastContextMenuRequest()
        if request is not None and request.linkUrl().isValid():
            actions = self.link_menu_actions(request.linkUrl().toString(), request.linkText())
            existing = menu.actions()
            if existing:
                for action in actions:
                    menu.insertAction(existing[0], action)
                menu.insertSeparator(existing[0])
            else:
                menu.addActions(actions)
        menu.popup(event.globalPos())
