"""Following pushes: the Pushes panel's feed.

The list of every push this computer sent (loaded at sign-in and after each reconnect), the
relay's event stream that moves their states on, and the panel's buttons: Resend a push that
did not arrive, Cancel one still on its way, Clear finished.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QPixmap

from desktop_sender.flows import Flow, unless_closed
from desktop_sender.notice import sent_message
from desktop_sender.pushes_panel import PushRow
from desktop_sender.relay_worker import PushEventListener
from desktop_sender.signals import emit
from shared.messages import InstallInfo, Push
from shared.protocol import ProtocolError
from shared.relay_errors import RelayError

if TYPE_CHECKING:
    from desktop_sender.app import SenderApp


class FollowingPushes(Flow):
    """Keeps the push board and the Pushes panel up to date with the relay."""

    def __init__(self, app: SenderApp):
        super().__init__(app)
        self.listener: PushEventListener | None = None
        panel = self.window.pushes_panel
        panel.cancel_requested.connect(self._on_cancel_requested)
        panel.resend_requested.connect(self._on_resend_requested)
        panel.clear_requested.connect(self._on_clear_requested)

    def follow(self) -> None:
        """Signed in: open the event stream and load the list."""
        self.stop()
        self.listener = PushEventListener(self.client, self)
        self.listener.push_updated.connect(self._on_push_update)
        self.listener.status_changed.connect(self._on_stream_status)
        self.listener.stream_failed.connect(self._on_stream_failed)
        self.listener.start()
        self.load()

    def stop(self) -> None:
        """Close the event stream (no update arrives after this)."""
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    @unless_closed
    def load(self) -> None:
        """Ask the relay for every push this computer sent (at start and after each reconnect)."""
        call = self.worker.call(self.client.pushes, "sent")
        call.succeeded.connect(self._on_loaded)
        call.failed.connect(self._on_load_error)

    @unless_closed
    def _on_load_error(self, error: RelayError) -> None:
        self.window.pushes_panel.set_error(
            self.tr("Can't load your pushes: {reason}").format(reason=self.error_text(error))
        )

    @unless_closed
    def _on_loaded(self, pushes: list[Push]) -> None:
        self.window.pushes_panel.set_error("")
        self.board.add_pushes(pushes)
        self.show_board()
        emit(self.app.pushes_loaded)

    @unless_closed
    def show_board(self) -> None:
        """Show the board's pushes in the panel, each with its app's icon once loaded."""
        panel = self.window.pushes_panel
        entries = self.board.entries()
        panel.set_entries(entries)
        for entry in entries:
            row = panel.rows[entry.push_id]
            self.icons.load(entry.icon_url, functools.partial(self._on_row_icon, row))

    def _on_row_icon(self, row: PushRow, pixmap: QPixmap) -> None:
        if not self.closed:
            row.set_icon(pixmap)

    # ------------------------------------------------------------------ the event stream

    @unless_closed
    def _on_push_update(self, update: dict[str, Any]) -> None:
        entry = self.board.apply_update(update)
        if entry is not None:
            self.window.pushes_panel.update_entry(entry)
            return
        push_id = str(update.get("push_id") or "")
        if push_id and push_id not in self.board:
            # A push this computer sent that the list has not caught up with yet.
            call = self.worker.call(self.client.get_push, push_id)
            call.succeeded.connect(self._on_push_fetched)

    @unless_closed
    def _on_push_fetched(self, push: Push) -> None:
        self.board.add_pushes([push])
        self.show_board()

    @unless_closed
    def _on_stream_status(self, state: str, error: str) -> None:
        self.window.pushes_panel.set_connection(state, error)
        if state == "connected" and len(self.board):
            self.load()  # catch up on anything that changed while disconnected

    @unless_closed
    def _on_stream_failed(self, error: RelayError) -> None:
        if error.status == 401:
            self.profile.tokens.clear()
            self.client.token = None
            self.window.set_account("", "")
            self.window.pushes_panel.set_error(
                self.tr("The relay signed this computer out. Click the account chip to sign in again.")
            )
        else:
            self.window.pushes_panel.set_error(
                self.tr("Live updates stopped. {reason}").format(reason=self.error_text(error))
            )

    # ------------------------------------------------------------------ the panel's buttons

    def _on_resend_requested(self, push_id: str) -> None:
        """Send a push that did not arrive again: the same app, mode and device, as a new push."""
        entry = self.board.get(push_id)
        if entry is None:
            return
        try:
            info = InstallInfo.from_dict(entry.app)
        except ProtocolError:
            info = InstallInfo(id=entry.app_id)
        call = self.worker.call(self.client.push, info, entry.requested_mode, [entry.device_id])
        call.succeeded.connect(lambda pushes, i=info: self._on_resent(i, pushes))
        call.failed.connect(
            lambda error: self.window.pushes_panel.set_error(
                self.tr("Not sent again. {reason}").format(reason=self.error_text(error))
            )
        )

    @unless_closed
    def _on_resent(self, info: InstallInfo, pushes: list[Push]) -> None:
        self.board.add_pushes(pushes)
        self.show_board()
        self.window.show_notice(sent_message(info.name or info.id, pushes))
        emit(self.app.push_sent, pushes)

    def _on_clear_requested(self) -> None:
        """Hide the finished pushes, now and after a restart (the relay keeps its history)."""
        now = datetime.now(UTC).isoformat()
        self.board.clear_finished(now)
        self.profile.settings.extra["pushes_cleared_at"] = now
        self.profile.save()
        self.show_board()

    def _on_cancel_requested(self, push_id: str) -> None:
        call = self.worker.call(self.client.cancel_push, push_id)
        call.succeeded.connect(self._on_push_fetched)
        call.failed.connect(lambda error, p=push_id: self._on_cancel_failed(p, error))

    @unless_closed
    def _on_cancel_failed(self, push_id: str, error: RelayError) -> None:
        self.window.pushes_panel.set_error(self.tr("Can't cancel: {reason}").format(reason=self.error_text(error)))
        entry = self.board.get(push_id)
        if entry is not None:
            self.window.pushes_panel.update_entry(entry)
