"""Adding a phone: the Add a phone dialog with a fresh pairing code from the relay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_sender.add_phone import AddPhoneDialog
from desktop_sender.flows import Flow, unless_closed
from desktop_sender.signals import emit
from desktop_sender.style import STYLE_SHEET
from shared.api_messages import Pairing
from shared.relay_errors import RelayError

if TYPE_CHECKING:
    from desktop_sender.app import SenderApp


class AddingAPhone(Flow):
    """Shows a pairing code (a new one on request) or why there is none."""

    def __init__(self, app: SenderApp):
        super().__init__(app)
        self.dialog: AddPhoneDialog | None = None
        self.window.add_phone_clicked.connect(self.show)

    def show(self) -> AddPhoneDialog:
        """Show a pairing code for a new phone (a fresh one from the relay)."""
        if self.dialog is None:
            dialog = AddPhoneDialog(self.window)
            dialog.setStyleSheet(STYLE_SHEET)
            dialog.new_code_requested.connect(self._request_pairing)
            self.dialog = dialog
        self.dialog.open()
        self._request_pairing()
        return self.dialog

    def _request_pairing(self) -> None:
        if self.dialog is None:
            return
        if not self.client.token:
            self.dialog.set_error(self.tr("Sign this computer in first: click the account chip in the toolbar."))
            return
        call = self.worker.call(self.client.create_pairing)
        call.succeeded.connect(self._on_pairing)
        call.failed.connect(self._on_pairing_failed)

    @unless_closed
    def _on_pairing(self, pairing: Pairing) -> None:
        if self.dialog is not None:
            self.dialog.set_pairing(pairing)
            emit(self.app.pairing_shown, pairing)

    @unless_closed
    def _on_pairing_failed(self, error: RelayError) -> None:
        if self.dialog is not None:
            self.dialog.set_error(self.tr("No code this time. {reason}").format(reason=self.error_text(error)))
