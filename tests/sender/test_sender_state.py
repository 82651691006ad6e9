"""The push board and the profile (pure Python, no Qt)."""

from __future__ import annotations

import stat

from desktop_sender.profile import SenderProfile, current_platform
from desktop_sender.push_board import PushBoard
from shared.messages import Push
from tests.helpers.messages import listed_push

APP = {"id": "org.example", "name": "Example", "version": "1.0"}


def push(push_id: str, state: str = "sent", updated: str = "2026-11-26T10:00:00+00:00", **kw) -> Push:
    return listed_push(
        push_id, app=APP, state=state, owner="ben", created_at=kw.pop("created", updated), updated_at=updated, **kw
    )


def test_board_applies_updates_and_ignores_stale_ones():
    board = PushBoard()
    board.add_pushes([push("p1")])
    entry = board.apply_update(
        {
            "push_id": "p1",
            "device_id": "d1",
            "state": "downloading",
            "bytes_done": 37,
            "bytes_total": 100,
            "updated_at": "2026-11-26T10:00:05+00:00",
        }
    )
    assert entry.label == "Downloading 37%" and entry.cancellable
    assert (
        board.apply_update(
            {"push_id": "p1", "device_id": "d1", "state": "delivered", "updated_at": "2026-11-26T10:00:01+00:00"}
        )
        is None
    )
    assert board.get("p1").label == "Downloading 37%"
    assert board.apply_update({"push_id": "unknown", "device_id": "d1", "state": "installed"}) is None
    board.apply_update(
        {
            "push_id": "p1",
            "device_id": "d1",
            "state": "failed",
            "detail": "no space",
            "updated_at": "2026-11-26T10:00:09+00:00",
        }
    )
    assert board.get("p1").label == "Failed: no space"
    board.add_pushes([push("p1", "installed", "2026-11-26T10:01:00+00:00")])
    assert board.get("p1").label == "Installed" and board.get("p1").finished and not board.get("p1").cancellable


def test_board_lists_newest_first():
    board = PushBoard()
    board.add_pushes(
        [push("old", created="2026-11-26T09:00:00+00:00"), push("new", created="2026-11-26T11:00:00+00:00")]
    )
    assert [e.push_id for e in board.entries()] == ["new", "old"]


def test_queued_label():
    board = PushBoard()
    board.add_pushes([push("p", "queued")])
    assert board.get("p").label == "Queued (device offline)"


def test_profile_keeps_device_id_and_token_private(tmp_path):
    profile = SenderProfile("demo", tmp_path, use_keyring=False)
    device_id = profile.settings.device_id
    assert device_id.startswith(current_platform() + "-")
    assert profile.device_info().platform in ("linux", "windows", "macos")
    profile.tokens.save("secret-token")
    assert stat.S_IMODE(profile.tokens.path.stat().st_mode) == 0o600
    profile.settings.relay_url = "http://127.0.0.1:1"
    profile.settings.username = "ben"
    profile.save()

    again = SenderProfile("demo", tmp_path, use_keyring=False)
    assert again.settings.device_id == device_id  # generated once per profile
    assert again.tokens.load() == "secret-token"
    assert again.is_set_up
    again.tokens.clear()
    assert again.tokens.load() is None and not again.is_set_up
