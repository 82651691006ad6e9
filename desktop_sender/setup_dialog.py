"""First run: which relay, which account, what this computer is called."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_sender.signals import emit


class SetupDialog(QDialog):
    """Asks for the relay address and the account; ``sign_in_requested`` carries the answers.

    The dialog does not talk to the relay: the controller signs in on a worker thread and
    calls :meth:`set_busy` / :meth:`set_error` / ``accept()`` with the outcome.
    """

    sign_in_requested = Signal(str, str, str, str, bool)  # relay URL, username, password, device name, create

    def __init__(
        self,
        relay_url: str = "",
        username: str = "",
        device_name: str = "",
        parent: QWidget | None = None,
        fingerprint: str = "",
    ):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Connect to your relay"))
        self.setModal(True)
        self.setMinimumWidth(520)
        title = QLabel(self.tr("Send apps from this browser to your phone"))
        title.setStyleSheet("font-size: 17px; font-weight: 600;")
        intro = QLabel(
            self.tr(
                "Appbeam sends apps through your relay. Sign in with the account your phone uses; "
                "this computer is added to your devices."
            )
        )
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #64748b;")
        self.relay_edit = QLineEdit(relay_url or "http://127.0.0.1:8765")
        self.username_edit = QLineEdit(username)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.device_edit = QLineEdit(device_name)
        self.create_check = QCheckBox(self.tr("Create this account on the relay"))
        form = QFormLayout()
        form.setVerticalSpacing(10)
        form.addRow(self.tr("Relay address"), self.relay_edit)
        form.addRow(self.tr("Username"), self.username_edit)
        form.addRow(self.tr("Password"), self.password_edit)
        form.addRow(self.tr("This computer's name"), self.device_edit)
        form.addRow("", self.create_check)
        if fingerprint:
            # Phones show this next to "Trust" when this computer is new to them.
            self.fingerprint_label = QLabel(fingerprint)
            self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fingerprint_label.setStyleSheet("font-family: monospace; color: #334155;")
            self.fingerprint_label.setToolTip(
                self.tr(
                    "This computer's signing key. Your phones list it in Settings; compare before you trust it there."
                )
            )
            form.addRow(self.tr("This computer's key"), self.fingerprint_label)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #dc2626;")
        self.error_label.hide()
        self.connect_button = QPushButton(self.tr("Sign in"))
        self.connect_button.setObjectName("primary")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self._on_connect_clicked)
        cancel = QPushButton(self.tr("Later"))
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.connect_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.create_check.toggled.connect(
            lambda on: self.connect_button.setText(self.tr("Create account") if on else self.tr("Sign in"))
        )

    def set_busy(self, busy: bool) -> None:
        """Lock the form while signing in."""
        for widget in (
            self.relay_edit,
            self.username_edit,
            self.password_edit,
            self.device_edit,
            self.create_check,
            self.connect_button,
        ):
            widget.setEnabled(not busy)
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)

    def set_error(self, message: str) -> None:
        """Show why signing in failed and unlock the form."""
        self.set_busy(False)
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _on_connect_clicked(self) -> None:
        relay = self.relay_edit.text().strip()
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        if not relay.startswith(("http://", "https://")):
            self.set_error(self.tr("The relay address starts with http:// or https://"))
            return
        if not username or not password:
            self.set_error(self.tr("Enter your username and password."))
            return
        self.error_label.hide()
        self.set_busy(True)
        emit(
            self.sign_in_requested,
            relay,
            username,
            password,
            self.device_edit.text().strip(),
            self.create_check.isChecked(),
        )
