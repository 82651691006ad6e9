"""A history worth keeping: the Pushes panel shows when each push was sent, offers Resend on a
push that did not arrive, and "Clear finished" hides the done ones, also after a restart
(issue 14, item 6)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.sender.sender_helpers import WAIT_MS, SenderHarness

pytestmark = pytest.mark.qt


def _push_to_tablet(sender, accounts) -> str:
    (push,) = sender.app.client.push({"id": "org.videolan.vlc"}, "notify", [accounts.ids["tablet"]])
    with sender.qtbot.waitSignal(sender.app.pushes_loaded, timeout=WAIT_MS):
        sender.app.load_pushes()
    return push.id


def test_a_cancelled_push_can_be_resent_and_cleared(qtbot, sender, accounts, relay, tmp_path):
    push_id = _push_to_tablet(sender, accounts)
    row = sender.panel.rows[push_id]
    assert "just now" in row.target.text()
    assert not row.resend_button.isVisible() and not sender.panel.clear_button.isVisible()

    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state_label.text() == "Cancelled", timeout=WAIT_MS)
    assert row.resend_button.isVisible() and sender.panel.clear_button.isVisible()

    qtbot.mouseClick(row.resend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(sender.panel.rows) == 2, timeout=WAIT_MS)
    (again,) = [r for pid, r in sender.panel.rows.items() if pid != push_id]
    assert again.state_label.text() == "Queued (device offline)"
    assert again.entry.device_id == accounts.ids["tablet"] and again.entry.app_id == "org.videolan.vlc"

    qtbot.mouseClick(sender.panel.clear_button, Qt.MouseButton.LeftButton)
    assert set(sender.panel.rows) == {again.push_id}  # the cancelled one is hidden, the live one stays

    # After a restart the list still leaves the cleared push out (the relay keeps its history).
    sender.close()
    restarted = SenderHarness(qtbot, sender.data_dir, relay.url, accounts.username, accounts.password)
    restarted.start()
    try:
        qtbot.waitUntil(lambda: again.push_id in restarted.panel.rows, timeout=WAIT_MS)
        assert push_id not in restarted.panel.rows
    finally:
        restarted.close()
