"""The automation socket: state as the user sees it, and taps through the inbox's own methods."""

from __future__ import annotations

import pytest

from appbeam_devtools.receiver_control import SOCKET_NAME, ControlServer, send
from mobile_receiver.service import ReceiverService
from tests.receiver.fakes import fake_platform, push_message, wait_until


@pytest.fixture
def service(tmp_path):
    receiver = ReceiverService(tmp_path, platform=fake_platform(tmp_path))
    yield receiver
    receiver.stop()


@pytest.fixture
def control(service, tmp_path):
    server = ControlServer(service, tmp_path / SOCKET_NAME).start()
    yield tmp_path / SOCKET_NAME
    server.stop()


def test_state_lists_the_pushes_and_taps_dismiss_a_notice(service, control):
    service.inbox.receive(push_message("p_1", "http://127.0.0.1:9/x.apk", b"x" * 10, mode="notify"))

    state = send(control, {"action": "state"})
    assert [(p["push_id"], p["mode"], p["prompt"]) for p in state["pushes"]] == [("p_1", "notify", "download")]
    assert state["installed"] == []

    assert send(control, {"action": "tap", "push_id": "p_1", "button": "dismiss"}) == {"ok": True}
    wait_until(lambda: send(control, {"action": "state"})["pushes"][0]["state"] == "declined", what="declined")


@pytest.mark.parametrize(
    "request_body, message",
    [
        ({"action": "tap", "push_id": "p_nope", "button": "download"}, "no push"),
        ({"action": "tap", "push_id": "p_1", "button": "explode"}, "unknown button"),
        ({"action": "reboot"}, "unknown action"),
        (["state"], "JSON object"),
    ],
)
def test_bad_requests_get_an_error_and_change_nothing(service, control, request_body, message):
    service.inbox.receive(push_message("p_1", "http://127.0.0.1:9/x.apk", b"x" * 10, mode="notify"))
    answer = send(control, request_body)
    assert message in answer["error"]
    assert send(control, {"action": "state"})["pushes"][0]["prompt"] == "download"


def test_the_socket_is_private_and_removed_on_stop(service, tmp_path):
    server = ControlServer(service, tmp_path / SOCKET_NAME).start()
    assert (tmp_path / SOCKET_NAME).stat().st_mode & 0o077 == 0
    server.stop()
    assert not (tmp_path / SOCKET_NAME).exists()
