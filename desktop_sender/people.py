"""People and devices: friends (invite, accept, decline, remove) and this account's devices
(rename, remove) without curl (issue 14).

The dialog never talks to the relay itself: it shows what it is given (``set_friends``,
``set_devices``) and emits what the user asked for; the controller (``app.py``) makes the
calls on its worker threads and refreshes the dialog with the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_sender.i18n import QT_TRANSLATE_NOOP
from desktop_sender.picker import platform_label
from desktop_sender.signals import emit
from desktop_sender.style import ERROR, MUTED, wrapping_label
from shared.api_messages import Device, DeviceInfo, Friend

#: What each friendship status means to a person.
FRIEND_STATUS = {
    "accepted": QT_TRANSLATE_NOOP("PeopleDialog", "Friend: you can send each other apps (as notices)"),
    "pending_incoming": QT_TRANSLATE_NOOP("PeopleDialog", "Wants to be your friend"),
    "pending_outgoing": QT_TRANSLATE_NOOP("PeopleDialog", "Invited: waiting for them to accept"),
}


class Questions(Protocol):
    """What the dialog asks the user: Qt's dialogs for a person, fixed answers in tests."""

    def yes(self, question: str) -> bool: ...

    def text(self, question: str, current: str) -> str | None: ...


def _button(text: str, name: str, handler: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.clicked.connect(lambda: handler())  # without clicked's ``checked``: handlers take no argument
    return button


def _row(title: str, subtitle: str, buttons: Sequence[QPushButton]) -> QFrame:
    frame = QFrame()
    frame.setObjectName("peopleRow")
    text = QVBoxLayout()
    text.setSpacing(1)
    name = wrapping_label(QLabel(title))
    name.setStyleSheet("font-weight: 600;")
    detail = wrapping_label(QLabel(subtitle))
    detail.setStyleSheet(f"color: {MUTED};")
    text.addWidget(name)
    text.addWidget(detail)
    layout = QHBoxLayout(frame)
    layout.setContentsMargins(10, 6, 6, 6)
    layout.addLayout(text, 1)
    for button in buttons:
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
    return frame


class PeopleDialog(QDialog):
    """Friends and devices. Signals carry the user's requests:

    ``invite_requested(username)``, ``accept_requested(username)``, ``remove_friend_requested(username)``
    (also declines or withdraws an invitation), ``rename_requested(device_id, name)``,
    ``remove_device_requested(device_id)``.
    """

    invite_requested = Signal(str)
    accept_requested = Signal(str)
    remove_friend_requested = Signal(str)
    rename_requested = Signal(str, str)
    remove_device_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, ask: Questions | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("People and devices"))
        self.setMinimumWidth(520)
        #: Asks the user for text or a yes/no; tests give their own answers.
        self.ask: Questions = ask or _QtQuestions(self)
        self.friend_rows: dict[str, QFrame] = {}
        self.device_rows: dict[str, QFrame] = {}

        self.invite_edit = QLineEdit()
        self.invite_edit.setPlaceholderText(self.tr("Their Appbeam username"))
        self.invite_edit.returnPressed.connect(self._on_invite)
        invite_button = _button(self.tr("Invite"), "primary", self._on_invite)
        invite_line = QHBoxLayout()
        invite_line.addWidget(self.invite_edit, 1)
        invite_line.addWidget(invite_button)
        self.message = wrapping_label(QLabel())
        self.message.hide()

        self.friends_box = QVBoxLayout()
        self.devices_box = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 18)
        layout.setSpacing(10)
        layout.addWidget(self._heading(self.tr("Friends")))
        layout.addWidget(
            wrapping_label(
                QLabel(
                    self.tr(
                        "Friends can send apps to each other's devices; those arrive as notices, "
                        "never install by themselves."
                    )
                )
            )
        )
        layout.addLayout(invite_line)
        layout.addLayout(self.friends_box)
        layout.addWidget(self._heading(self.tr("Your devices")))
        layout.addLayout(self.devices_box)
        layout.addWidget(self.message)
        close = _button(self.tr("Done"), "primary", self.accept)
        close.setDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setStyleSheet("font-size: 15px; font-weight: 600; margin-top: 6px;")
        return label

    # ------------------------------------------------------------------ showing

    def set_friends(self, friends: Sequence[Friend]) -> None:
        self._clear(self.friends_box, self.friend_rows)
        if not friends:
            self.friends_box.addWidget(self._empty(self.tr("No friends yet. Invite someone by their username.")))
        for friend in friends:
            username, status = friend.username, friend.status
            if status == "pending_incoming":
                buttons = [
                    _button(self.tr("Accept"), "primary", partial(emit, self.accept_requested, username)),
                    _button(
                        self.tr("Decline"),
                        "secondary",
                        partial(emit, self.remove_friend_requested, username),
                    ),
                ]
            elif status == "pending_outgoing":
                buttons = [
                    _button(
                        self.tr("Withdraw"),
                        "secondary",
                        partial(self._confirm_remove, username, "withdraw"),
                    )
                ]
            else:
                buttons = [_button(self.tr("Remove"), "secondary", partial(self._confirm_remove, username, "remove"))]
            row = _row(username, self.tr(FRIEND_STATUS[status]) if status in FRIEND_STATUS else status, buttons)
            self.friend_rows[username] = row
            self.friends_box.addWidget(row)

    def set_devices(self, devices: Sequence[Device], this_device: DeviceInfo | None = None) -> None:
        """The account's own devices (friends' are left out), this computer first."""
        self._clear(self.devices_box, self.device_rows)
        own: list[Device | DeviceInfo] = [d for d in devices if d.relation == "self"]
        if this_device:
            own = [this_device, *own]
        for device in own:
            device_id, name = device.id, device.name or device.id
            this = isinstance(device, DeviceInfo)  # the computer describes itself; the relay lists the others
            if isinstance(device, DeviceInfo):
                where = self.tr("this computer")
            else:
                where = self.tr("online") if device.online else self.tr("offline")
            subtitle = " · ".join(x for x in (device.model, platform_label(device.platform), where) if x)
            buttons = [_button(self.tr("Rename"), "secondary", partial(self._ask_rename, device_id, name))]
            if not this:
                buttons.append(
                    _button(
                        self.tr("Remove"),
                        "danger",
                        partial(self._confirm_remove_device, device_id, name),
                    )
                )
            row = _row(name, subtitle, buttons)
            self.device_rows[device_id] = row
            self.devices_box.addWidget(row)

    def show_message(self, text: str, error: bool = False) -> None:
        """A sentence under the lists (what just happened, or why it did not)."""
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR if error else MUTED};")
        self.message.setVisible(bool(text))

    # ------------------------------------------------------------------ asking

    def _on_invite(self) -> None:
        username = self.invite_edit.text().strip().lower()
        if not username:
            self.show_message(self.tr("Type the username of the person to invite."), error=True)
            return
        self.invite_edit.clear()
        emit(self.invite_requested, username)

    def _confirm_remove(self, username: str, verb: str) -> None:
        question = (
            self.tr("Remove {username} from your friends? You will no longer send each other apps.").format(
                username=username
            )
            if verb == "remove"
            else self.tr("Withdraw your invitation to {username}?").format(username=username)
        )
        if self.ask.yes(question):
            emit(self.remove_friend_requested, username)

    def _ask_rename(self, device_id: str, current: str) -> None:
        name = self.ask.text(self.tr("A new name for {device}:").format(device=current), current)
        if name and name.strip() and name.strip() != current:
            emit(self.rename_requested, device_id, name.strip())

    def _confirm_remove_device(self, device_id: str, name: str) -> None:
        if self.ask.yes(
            self.tr("Remove {device}? It is signed out at once and gets no more apps until it signs in again.").format(
                device=name
            )
        ):
            emit(self.remove_device_requested, device_id)

    @staticmethod
    def _clear(box: QVBoxLayout, rows: dict[str, QFrame]) -> None:
        rows.clear()
        while box.count():
            item = box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _empty(self, text: str) -> QLabel:
        label = wrapping_label(QLabel(text))
        label.setStyleSheet(f"color: {MUTED};")
        return label


class _QtQuestions:
    """The real questions, as Qt dialogs."""

    def __init__(self, parent: QWidget):
        self.parent = parent

    def yes(self, question: str) -> bool:
        answer = QMessageBox.question(self.parent, "Appbeam", question)
        return answer == QMessageBox.StandardButton.Yes

    def text(self, question: str, current: str) -> str | None:
        value, ok = QInputDialog.getText(self.parent, "Appbeam", question, text=current)
        return value if ok else None
