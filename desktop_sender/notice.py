"""The notice shown after a push is sent: where the app is going, and where to watch it [0136, 0139]."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, QRect, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from shared.messages import Push

SHOW_MS = 9000


class SentNotice(QFrame):
    """A dark floating bar at the bottom of the browser; ``show_pushes_clicked`` opens the panel."""

    show_pushes_clicked = Signal()

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("notice")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton(self.tr("Show progress"))
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.show_pushes_clicked)
        close = QPushButton("✕")
        close.setCursor(Qt.CursorShape.PointingHandCursor)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(18, 12, 10, 12)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self._area = QRect()
        self.hide()

    def show_message(self, text: str, area: QRect) -> None:
        """Show ``text`` over ``area`` for a few seconds."""
        self.label.setText(text)
        self.reposition(area)
        self.show()
        self.raise_()
        self._timer.start(SHOW_MS)

    def reposition(self, area: QRect) -> None:
        """Centre at the bottom of ``area`` (the browser, in parent coordinates)."""
        self._area = QRect(area)
        width = min(640, area.width() - 32)
        self.setFixedWidth(max(width, 200))
        self.adjustSize()
        self.move(area.x() + (area.width() - self.width()) // 2, area.bottom() - self.height() - 20)


def device_list(names: list[str], locale: QLocale | None = None) -> str:
    """``Anna's Pixel, Tablet and Phone`` in the language's own list style.

    Chinese lists parallel names with the enumeration comma: ``Ben's Pixel 8、Ben's iPad``.
    Qt's own Chinese list ends in 和 with no space, which runs into Latin device names
    (``Ben's Pixel 8和Ben's iPad``); the full-width 、 needs no space on either side.
    """
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.Chinese:
        return "、".join(names)
    return locale.createSeparatedList(names)


def sent_message(app_name: str, pushes: list[Push]) -> str:
    """``VLC is on its way to Anna's Pixel and Tablet. ...`` from the relay's answer."""
    names = [p.device_name or p.device_id for p in pushes]
    where = device_list(names) if names else QCoreApplication.translate("SentNotice", "your device")
    if any(p.state == "queued" for p in pushes):
        text = QCoreApplication.translate(
            "SentNotice",
            "{app} is on its way to {devices}. Offline devices get it when they are back. "
            "Watch its progress in the Pushes panel.",
        )
    else:
        text = QCoreApplication.translate(
            "SentNotice", "{app} is on its way to {devices}. Watch its progress in the Pushes panel."
        )
    return text.format(app=app_name, devices=where)
