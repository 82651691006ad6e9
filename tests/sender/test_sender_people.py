"""People and devices in the sender, without curl: invite, accept, decline friends; rename and
remove devices, through the dialog's own buttons against a real relay (issue 14, item 2)."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from tests.sender.sender_helpers import PASSWORD, WAIT_MS

pytestmark = pytest.mark.qt


class Answers:
    """The user's answers to the dialog's questions."""

    def __init__(self, text: str = ""):
        self.text_answer = text
        self.asked: list[str] = []

    def yes(self, question: str) -> bool:
        self.asked.append(question)
        return True

    def text(self, question: str, current: str) -> str:
        self.asked.append(question)
        return self.text_answer


def _button(row, text: str) -> QPushButton:
    (button,) = [b for b in row.findChildren(QPushButton) if b.text() == text]
    return button


def _person(relay_url: str, prefix: str) -> tuple[str, RelayClient]:
    username = f"{prefix}{uuid.uuid4().hex[:8]}"
    client = RelayClient(relay_url)
    client.create_account(username, PASSWORD)
    client.login(username, PASSWORD, DeviceInfo(f"{username}-phone", "Phone", "Pixel", "android"))
    return username, client


def _click(qtbot, dialog, row_dict, key, text):
    qtbot.waitUntil(lambda: key in row_dict, timeout=WAIT_MS)
    qtbot.mouseClick(_button(row_dict[key], text), Qt.MouseButton.LeftButton)


def _status(client: RelayClient, username: str) -> str | None:
    return next((f.status for f in client.friends() if f.username == username), None)


def test_friends_are_invited_accepted_declined_and_removed_from_the_dialog(qtbot, sender, accounts, relay):
    dialog = sender.app.show_people(ask=Answers())
    qtbot.waitUntil(lambda: accounts.friend in dialog.friend_rows, timeout=WAIT_MS)

    carol, carol_client = _person(relay.url, "carol")
    dialog.invite_edit.setText(carol.upper())
    qtbot.mouseClick(_button(dialog, "Invite"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _status(carol_client, accounts.username) == "pending_incoming", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: dialog.message.text() == f"Invitation sent to {carol}.", timeout=WAIT_MS)

    dave, dave_client = _person(relay.url, "dave")
    erin, erin_client = _person(relay.url, "erin")
    dave_client.request_friend(accounts.username)
    erin_client.request_friend(accounts.username)
    sender.app.refresh_people()
    _click(qtbot, dialog, dialog.friend_rows, dave, "Accept")
    qtbot.waitUntil(lambda: _status(dave_client, accounts.username) == "accepted", timeout=WAIT_MS)
    _click(qtbot, dialog, dialog.friend_rows, erin, "Decline")
    qtbot.waitUntil(lambda: _status(erin_client, accounts.username) is None, timeout=WAIT_MS)

    _click(qtbot, dialog, dialog.friend_rows, accounts.friend, "Remove")
    qtbot.waitUntil(lambda: _status(accounts.friend_phone, accounts.username) is None, timeout=WAIT_MS)


def test_devices_are_renamed_and_removed_and_a_removed_one_is_signed_out(qtbot, sender, accounts):
    answers = Answers(text="Ben's work phone")
    dialog = sender.app.show_people(ask=answers)
    phone_id, tablet_id = accounts.ids["phone"], accounts.ids["tablet"]
    qtbot.waitUntil(lambda: phone_id in dialog.device_rows, timeout=WAIT_MS)
    this = sender.app.profile.settings.device_id
    assert (
        this in dialog.device_rows
        and "this computer" in dialog.device_rows[this].findChildren(type(dialog.message))[1].text()
    )
    assert accounts.ids["friend_phone"] not in dialog.device_rows  # a friend's device is not yours to manage

    _click(qtbot, dialog, dialog.device_rows, phone_id, "Rename")
    qtbot.waitUntil(
        lambda: {d.id: d.name for d in sender.app.client.devices()}.get(phone_id) == "Ben's work phone",
        timeout=WAIT_MS,
    )

    _click(qtbot, dialog, dialog.device_rows, tablet_id, "Remove")
    qtbot.waitUntil(lambda: tablet_id not in {d.id for d in sender.app.client.devices()}, timeout=WAIT_MS)
    with pytest.raises(RelayError) as signed_out:
        accounts.tablet.me()
    assert signed_out.value.status == 401
    assert any("signed out at once" in q for q in answers.asked)
