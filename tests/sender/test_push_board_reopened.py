"""The Pushes panel's board when a phone re-opens a push it declined (Download again): pure Python."""

from __future__ import annotations

from desktop_sender.push_board import PushBoard
from shared.messages import Push
from tests.helpers.messages import listed_push

APP = {"id": "org.example", "name": "Example", "version": "1.0"}


def _push(state: str, updated: str) -> Push:
    return listed_push("p1", app=APP, state=state, updated_at=updated)


def test_a_declined_row_moves_back_to_downloading_and_on_to_installed():
    board = PushBoard()
    board.add_pushes([_push("declined", "2026-11-26T10:00:05+00:00")])
    assert board.get("p1").finished and board.get("p1").resendable

    entry = board.apply_update(
        {
            "push_id": "p1",
            "device_id": "d1",
            "state": "downloading",
            "bytes_done": 10,
            "bytes_total": 100,
            "updated_at": "2026-11-26T10:03:00+00:00",
        }
    )

    assert entry.label == "Downloading 10%" and not entry.finished and not entry.resendable
    board.apply_update(
        {"push_id": "p1", "device_id": "d1", "state": "installed", "updated_at": "2026-11-26T10:03:09+00:00"}
    )
    assert board.get("p1").label == "Installed"


def test_a_declined_row_hidden_by_clear_finished_shows_again_when_reopened():
    board = PushBoard()
    board.add_pushes([_push("declined", "2026-11-26T10:00:05+00:00")])
    board.clear_finished("2026-11-26T10:01:00+00:00")
    assert board.entries() == []

    board.apply_update(
        {"push_id": "p1", "device_id": "d1", "state": "downloading", "updated_at": "2026-11-26T10:03:00+00:00"}
    )

    assert [e.push_id for e in board.entries()] == ["p1"]
