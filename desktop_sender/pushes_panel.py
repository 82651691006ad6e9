"""The Pushes panel: every push this computer sent, with its live state on each device.

A dock the user can show or hide. One card per push (one app to one device): the app, the
device, the state in words (``Queued (device offline)``, ``Downloading 37%``, ``Failed:
no space``), a progress bar while downloading, and Cancel while nothing is installed yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_sender.i18n.formats import local_when
from desktop_sender.i18n.states import push_state_text
from desktop_sender.push_board import PushEntry
from desktop_sender.signals import emit
from desktop_sender.style import (
    ERROR,
    MUTED,
    OK,
    STATE_COLORS,
    WARN,
    breakable,
    letter_icon,
    rounded,
    wrapping_label,
)
from shared.protocol import PushMode, PushState

ROW_ICON = 36
_PROGRESS_STATES = {PushState.DOWNLOADING, PushState.PAUSED, PushState.VERIFYING, PushState.INSTALLING}


class PushRow(QFrame):
    """One push to one device."""

    cancel_clicked = Signal(str)
    resend_clicked = Signal(str)

    def __init__(self, entry: PushEntry, parent: QWidget | None = None, own_username: str = ""):
        super().__init__(parent)
        self.own_username = own_username
        self.setObjectName("pushRow")
        self.push_id = entry.push_id
        self.icon = QLabel()
        self.icon.setFixedSize(ROW_ICON, ROW_ICON)
        self.icon.setPixmap(letter_icon(entry.app_name, ROW_ICON))
        # Every text wraps inside the row: a long app name, device name or reason never
        # widens the row past the panel (nor pushes Cancel out of view).
        self.title = wrapping_label(QLabel())
        self.title.setObjectName("pushTitle")
        self.target = wrapping_label(QLabel())
        self.target.setObjectName("pushTarget")
        self.state_label = wrapping_label(QLabel())
        self.state_label.setObjectName("pushState")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setObjectName("cancelPush")
        self.cancel_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.cancel_button.clicked.connect(lambda: emit(self.cancel_clicked, self.push_id))
        self.resend_button = QPushButton(self.tr("Resend"))
        self.resend_button.setObjectName("resendPush")
        self.resend_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.resend_button.setToolTip(self.tr("Send this app to this device again"))
        self.resend_button.clicked.connect(self._on_resend_clicked)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.target)
        # The state gets the whole width (a reason can be long); the buttons sit below it.
        text.addWidget(self.state_label)
        text.addWidget(self.progress)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resend_button)
        text.addLayout(buttons)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 10, 10, 10)
        layout.setSpacing(12)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        self.entry = entry
        self.update_entry(entry)

    def update_entry(self, entry: PushEntry) -> None:
        """Show the push's current state."""
        self.entry = entry
        self.title.setText(breakable(f"{entry.app_name} {entry.app_version or ''}".strip()))
        mode = self.tr("Install now") if entry.mode is PushMode.INSTALL_NOW else self.tr("Notice")
        if entry.requested_mode is PushMode.INSTALL_NOW and entry.mode is PushMode.NOTIFY:
            mode = self.tr("Notice (friend's device)")
        if entry.owner and entry.owner != self.own_username:
            target = self.tr("→ {device} ({owner}'s)").format(device=entry.device_name, owner=entry.owner)
        else:
            target = f"→ {entry.device_name}"
        when = local_when(entry.created_at)
        self.target.setText(breakable(" · ".join(x for x in (target, mode, when) if x)))
        self.state_label.setText(breakable(push_state_text(entry.state, entry.percent, entry.detail)))
        color = STATE_COLORS.get(str(entry.state), MUTED)
        self.state_label.setStyleSheet(f"color: {color};")
        self.progress.setVisible(entry.state in _PROGRESS_STATES)
        percent = entry.percent
        if entry.state is PushState.VERIFYING or entry.state is PushState.INSTALLING:
            percent = 100
        if percent is None:
            self.progress.setRange(0, 0)  # busy: the device has not said how far it is
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(percent)
        self.cancel_button.setVisible(entry.cancellable)
        self.cancel_button.setEnabled(True)
        self.resend_button.setVisible(entry.resendable)
        self.resend_button.setEnabled(True)

    def _on_resend_clicked(self) -> None:
        self.resend_button.setEnabled(False)  # once: the new push appears as a row of its own
        emit(self.resend_clicked, self.push_id)

    def set_icon(self, pixmap: QPixmap) -> None:
        """Show the app's real icon."""
        if not pixmap.isNull():
            self.icon.setPixmap(rounded(pixmap, ROW_ICON))


class PushesPanel(QDockWidget):
    """The dock listing pushes. ``cancel_requested(push_id)`` and ``resend_requested(push_id)``
    when the user cancels or resends one, ``clear_requested()`` for "Clear finished"."""

    cancel_requested = Signal(str)
    resend_requested = Signal(str)
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(self.tr("Pushes"), parent)
        self.setObjectName("pushesDock")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.setAllowedAreas(Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea)
        self.rows: dict[str, PushRow] = {}
        self.username = ""  # the signed-in account: its own devices need no owner name

        body = QWidget()
        body.setObjectName("pushesBody")
        self.connection_label = QLabel(self.tr("Not connected"))
        self.connection_label.setObjectName("connection")
        self.connection_label.setWordWrap(True)
        self.error_label = wrapping_label(QLabel())
        self.error_label.setObjectName("connection")
        self.error_label.setStyleSheet(f"color: {ERROR};")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        # While the stream is down the rows keep their last state ("Downloading 37%"): say so,
        # or the user reads an old state as the present one.
        self.stale_label = wrapping_label(QLabel(self.tr("Not connected: these may be out of date.")))
        self.stale_label.setObjectName("staleNote")
        self.stale_label.hide()
        self._live = True
        self.empty_label = QLabel(
            self.tr("Nothing sent yet.\nClick a download in the store to send an app to your phone.")
        )
        self.empty_label.setObjectName("emptyPushes")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.list_widget = QWidget()
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(10, 6, 10, 10)
        self.list_layout.setSpacing(8)
        self.list_layout.addWidget(self.empty_label)
        self.list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.list_widget)

        self.clear_button = QPushButton(self.tr("Clear finished"))
        self.clear_button.setObjectName("clearPushes")
        self.clear_button.setToolTip(self.tr("Hide the pushes that are done (installed, failed, cancelled…)"))
        self.clear_button.clicked.connect(lambda: emit(self.clear_requested))
        self.clear_button.hide()  # until something has finished
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 10, 0)
        header.addWidget(self.connection_label, 1)
        header.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignVCenter)

        # "5 min ago" must not stay "just now": the rows' times are redrawn every half minute.
        self._clock = QTimer(self)
        self._clock.setInterval(30_000)
        self._clock.timeout.connect(self.refresh_times)
        self._clock.start()

        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.error_label)
        layout.addWidget(self.stale_label)
        layout.addWidget(scroll, 1)
        self.setWidget(body)
        self.setMinimumWidth(330)

    def set_entries(self, entries: Iterable[PushEntry]) -> None:
        """Show these pushes (newest first), reusing rows that already exist."""
        entries = list(entries)
        for entry in entries:
            self.update_entry(entry, reorder=False)
        order = [e.push_id for e in entries]
        for push_id in set(self.rows) - set(order):  # cleared
            row = self.rows.pop(push_id)
            self.list_layout.removeWidget(row)
            row.deleteLater()
        for push_id in order:
            self.list_layout.removeWidget(self.rows[push_id])
        for index, push_id in enumerate(order):
            self.list_layout.insertWidget(1 + index, self.rows[push_id])
        self.empty_label.setVisible(not self.rows)
        self.clear_button.setVisible(any(e.finished for e in entries))
        self._show_staleness()

    def update_entry(self, entry: PushEntry, reorder: bool = True) -> PushRow:
        """Add or refresh one push; new pushes go to the top."""
        row = self.rows.get(entry.push_id)
        if row is None:
            row = PushRow(entry, self.list_widget, self.username)
            row.cancel_clicked.connect(self._on_cancel_clicked)
            row.resend_clicked.connect(self.resend_requested)
            self.rows[entry.push_id] = row
            if reorder:
                self.list_layout.insertWidget(1, row)
        else:
            row.update_entry(entry)
        self.empty_label.setVisible(False)
        if entry.finished:
            self.clear_button.show()
        self._show_staleness()
        return row

    def refresh_times(self) -> None:
        """Redraw every row (its "5 min ago")."""
        for row in self.rows.values():
            row.update_entry(row.entry)

    def set_connection(self, state: str, error: str = "") -> None:
        """The event stream's state, so the user knows whether what they see is live."""
        text, color = {
            "connected": ("● " + self.tr("Live: states update as devices report"), OK),
            "connecting": ("● " + self.tr("Connecting to the relay…"), WARN),
            "reconnecting": ("● " + self.tr("Reconnecting to the relay…"), WARN),
            "closed": ("● " + self.tr("Not connected"), MUTED),
        }.get(state, (f"● {state}", MUTED))
        # The technical reason goes in the tooltip: in the panel it would only be noise.
        self.connection_label.setToolTip(error if state != "connected" else "")
        self.connection_label.setText(text)
        self.connection_label.setStyleSheet(f"color: {color};")
        # "connecting" is the first connection, with the list just read from the relay: fresh.
        self._live = state not in ("reconnecting", "closed")
        self._show_staleness()

    def _show_staleness(self) -> None:
        self.stale_label.setVisible(not self._live and bool(self.rows))

    def set_error(self, message: str) -> None:
        """Show a problem above the list (empty text hides it)."""
        self.error_label.setText(breakable(message))
        self.error_label.setVisible(bool(message))

    def _on_cancel_clicked(self, push_id: str) -> None:
        row = self.rows.get(push_id)
        if row is not None:
            row.cancel_button.setEnabled(False)
        emit(self.cancel_requested, push_id)
