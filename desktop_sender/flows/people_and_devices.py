"""People and devices: the dialog's invitations, friends and own devices, each a relay call."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop_sender.flows import Flow, unless_closed
from desktop_sender.people import PeopleDialog, Questions
from desktop_sender.signals import emit
from desktop_sender.style import STYLE_SHEET
from shared.api_messages import Device, Friend
from shared.relay_errors import RelayError

if TYPE_CHECKING:
    from desktop_sender.app import SenderApp


class PeopleAndDevices(Flow):
    """Fills the People dialog from the relay and sends what the user asked for."""

    def __init__(self, app: SenderApp):
        super().__init__(app)
        self.dialog: PeopleDialog | None = None
        self.window.people_clicked.connect(self.show)

    def show(self, ask: Questions | None = None) -> PeopleDialog:
        """Friends and this account's devices (``ask`` answers the dialog's questions in tests)."""
        if self.dialog is None:
            dialog = PeopleDialog(self.window, ask=ask)
            dialog.setStyleSheet(STYLE_SHEET)
            dialog.invite_requested.connect(
                lambda u: self._call(
                    self.client.request_friend, u, done=self.tr("Invitation sent to {username}.").format(username=u)
                )
            )
            dialog.accept_requested.connect(
                lambda u: self._call(
                    self.client.accept_friend, u, done=self.tr("You and {username} are friends now.").format(username=u)
                )
            )
            dialog.remove_friend_requested.connect(lambda u: self._call(self.client.remove_friend, u, done=""))
            dialog.rename_requested.connect(
                lambda d, n: self._call(self.client.rename_device, d, n, done=self.tr("Renamed."))
            )
            dialog.remove_device_requested.connect(
                lambda d: self._call(
                    self.client.remove_device, d, done=self.tr("Removed: it is signed out and gets no more apps.")
                )
            )
            self.dialog = dialog
        self.dialog.open()
        self.refresh()
        return self.dialog

    def refresh(self) -> None:
        """Ask the relay for the friends and the devices again."""
        if self.dialog is None or not self.client.token:
            if self.dialog is not None:
                self.dialog.show_message(self.tr("Sign this computer in first: click the account chip."), error=True)
            return
        friends = self.worker.call(self.client.friends)
        friends.succeeded.connect(self._on_friends)
        friends.failed.connect(self._on_failed)
        devices = self.worker.call(self.client.devices)
        devices.succeeded.connect(self._on_devices)
        devices.failed.connect(self._on_failed)

    @unless_closed
    def _on_friends(self, friends: list[Friend]) -> None:
        if self.dialog is not None:
            self.dialog.set_friends(friends)

    @unless_closed
    def _on_devices(self, devices: list[Device]) -> None:
        if self.dialog is not None:
            self.dialog.set_devices(devices, self.profile.device_info())
        emit(self.app.people_loaded)

    def _call(self, method: Callable[..., Any], *args: Any, done: str) -> None:
        call = self.worker.call(method, *args)
        call.succeeded.connect(lambda _answer: self._on_done(done))
        call.failed.connect(self._on_failed)

    @unless_closed
    def _on_done(self, done: str) -> None:
        if self.dialog is not None:
            self.dialog.show_message(done)
        self.refresh()

    @unless_closed
    def _on_failed(self, error: RelayError) -> None:
        if self.dialog is not None:
            self.dialog.show_message(self.error_text(error), error=True)
