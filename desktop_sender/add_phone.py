"""Add a phone: a QR code (and the same code to type) that signs a phone in to this account
without its password, and makes it trust this computer at once (issue 14).

The code comes from the relay (``POST /pairings``: 8 characters, 10 minutes, once); the
dialog draws it with segno, counts the minutes down, and offers a fresh one when it ran out.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import segno
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_sender.signals import emit
from desktop_sender.style import ERROR, MUTED, wrapping_label
from shared.api_messages import Pairing

QR_PIXELS = 260


def qr_pixmap(payload: str, pixels: int = QR_PIXELS) -> QPixmap:
    """The payload as a QR code image about ``pixels`` wide (error correction M, quiet zone kept)."""
    code = segno.make(payload, error="m", micro=False)
    width, _ = code.symbol_size(scale=1, border=4)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=max(1, pixels // width), border=4)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def minutes_left(expires_at: str, now: datetime | None = None) -> int:
    """Whole minutes until ``expires_at`` (ISO 8601), rounded up; 0 once it passed."""
    moment = datetime.fromisoformat(expires_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return 0 if seconds <= 0 else int(-(-seconds // 60))


class AddPhoneDialog(QDialog):
    """Shows one pairing code; ``new_code_requested`` asks the controller for another."""

    new_code_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add a phone"))
        self.setModal(True)
        self.setMinimumWidth(440)
        self.expires_at = ""
        self.payload = ""
        title = QLabel(self.tr("Add a phone or tablet"))
        title.setStyleSheet("font-size: 17px; font-weight: 600;")
        self.steps = wrapping_label(
            QLabel(
                self.tr(
                    "On the phone, open Appbeam and tap <b>Pair with a computer</b>. Then scan this code, "
                    "or type the letters below it. The phone joins your account and trusts this computer: "
                    "apps you send to it with Install now install by themselves."
                )
            )
        )
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        self.qr = QLabel()
        self.qr.setObjectName("pairingQr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(QR_PIXELS, QR_PIXELS)
        self.code_label = QLabel("…")
        self.code_label.setObjectName("pairingCode")
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setStyleSheet("font-family: monospace; font-size: 26px; font-weight: 600; letter-spacing: 3px;")
        self.expiry_label = wrapping_label(QLabel(self.tr("Making a code…")))
        self.expiry_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.expiry_label.setStyleSheet(f"color: {MUTED};")
        self.new_button = QPushButton(self.tr("New code"))
        self.new_button.clicked.connect(self._ask_new_code)
        done = QPushButton(self.tr("Done"))
        done.setObjectName("primary")
        done.setDefault(True)
        done.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(done)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(self.steps)
        layout.addWidget(self.qr)
        layout.addWidget(self.code_label)
        layout.addWidget(self.expiry_label)
        layout.addLayout(buttons)
        self._ticker = QTimer(self)
        self._ticker.setInterval(15_000)
        self._ticker.timeout.connect(self._show_expiry)

    def set_pairing(self, pairing: Pairing) -> None:
        """Show a code from the relay, its QR code and how long it lasts."""
        self.payload = pairing.qr_payload
        self.expires_at = pairing.expires_at
        self.qr.setPixmap(qr_pixmap(self.payload))
        self.code_label.setText(pairing.code)
        self.code_label.setEnabled(True)
        self.new_button.setEnabled(True)
        self._show_expiry()
        self._ticker.start()

    def set_error(self, message: str) -> None:
        """The relay could not make a code: say why; New code tries again."""
        self._ticker.stop()
        self.qr.clear()
        self.code_label.setText("")
        self.expiry_label.setText(message)
        self.expiry_label.setStyleSheet(f"color: {ERROR};")
        self.new_button.setEnabled(True)

    def _show_expiry(self) -> None:
        left = minutes_left(self.expires_at) if self.expires_at else 0
        self.expiry_label.setStyleSheet(f"color: {MUTED};")
        if left <= 0:
            self._ticker.stop()
            self.code_label.setEnabled(False)
            self.qr.clear()
            self.expiry_label.setText(self.tr("This code has expired. Click New code for another one."))
        else:
            self.expiry_label.setText(self.tr("Works once, for the next %n minute(s).", "", left))

    def _ask_new_code(self) -> None:
        self.new_button.setEnabled(False)
        self.expiry_label.setText(self.tr("Making a code…"))
        emit(self.new_code_requested)
