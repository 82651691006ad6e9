"""Signing in: the first-run dialog (or the account chip, or a failed sign-in), the relay call, and
what a signed-in sender starts (the account chip filled in, the Pushes panel's feed)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from desktop_sender.account import sign_in
from desktop_sender.flows import Flow, unless_closed
from desktop_sender.setup_dialog import SetupDialog
from desktop_sender.signals import emit
from desktop_sender.style import STYLE_SHEET
from shared.api_messages import Session
from shared.relay_errors import RelayError

if TYPE_CHECKING:
    from desktop_sender.app import SenderApp

log = logging.getLogger(__name__)


class SigningIn(Flow):
    """Asks for the relay and the account, signs in on the worker, and says why when it fails."""

    def __init__(self, app: SenderApp):
        super().__init__(app)
        self.dialog: SetupDialog | None = None
        self.window.account_clicked.connect(self.show_dialog)

    def show_dialog(self, error: str = "", username: str = "") -> None:
        """Ask for the relay and the account (first run, the account chip, or after a failed
        sign-in: then with the reason shown and the fields as they were)."""
        settings = self.profile.settings
        if self.dialog is not None:
            self.dialog.set_error(error)
            return
        dialog = SetupDialog(
            settings.relay_url,
            username or settings.username,
            settings.device_name or self.profile.device_info().name,
            self.window,
            fingerprint=self.client.key.fingerprint if self.client.key else "",
        )
        dialog.setStyleSheet(STYLE_SHEET)
        dialog.sign_in_requested.connect(self.sign_in)
        dialog.finished.connect(self._on_dialog_closed)
        self.dialog = dialog
        if error:
            dialog.set_error(error)
        dialog.open()

    def _on_dialog_closed(self, _result: int) -> None:
        self.dialog = None

    def sign_in(self, relay_url: str, username: str, password: str, device_name: str, create: bool) -> None:
        """Sign in (creating the account first when ``create``) on a worker thread."""
        settings = self.profile.settings
        settings.relay_url = relay_url.rstrip("/")
        if device_name:
            settings.device_name = device_name
        self.client.base_url = settings.relay_url + "/"
        self.client.token = None
        call = self.worker.submit(
            "sign_in", sign_in, self.client, username, password, self.profile.device_info(), create
        )
        call.succeeded.connect(lambda answer, u=username: self._on_sign_in_done(u, answer))
        call.failed.connect(lambda error, u=username: self._on_sign_in_error(u, error))

    @unless_closed
    def _on_sign_in_done(self, username: str, answer: Session) -> None:
        settings = self.profile.settings
        settings.username = username
        self.profile.save()
        self.profile.tokens.save(answer.token)
        if self.dialog is not None:
            self.dialog.accept()
            self.dialog = None
        self.app.open_start_page()
        self.signed_in(username)

    @unless_closed
    def _on_sign_in_error(self, username: str, error: RelayError) -> None:
        message = self.error_text(error)
        log.warning("sign-in as %s failed: %s (%s)", username, message, error)
        self.window.set_account("", "", problem=message)
        if self.dialog is not None or self.app.options.interactive:
            # Say why, and keep what was typed: the relay address and the username stay filled in.
            self.show_dialog(error=message, username=username)
        emit(self.app.sign_in_failed, message)

    @unless_closed
    def signed_in(self, username: str) -> None:
        """Signed in as username (now, or with the token kept from last time): follow the pushes."""
        self.app.username = username
        self.window.set_account(username, self.profile.device_info().name)
        self.window.pushes_panel.username = username
        self.app.pushes.follow()
        emit(self.app.signed_in, username)

    def not_signed_in(self) -> None:
        """No account and nobody to ask (a headless start without --username): say how to sign in."""
        problem = self.tr("Not signed in: start with --username and --password.")
        self.window.set_account("", "", problem=problem)
        emit(self.app.sign_in_failed, problem)
