"""What the relay sends is exactly the typed shapes of ``shared.messages``: no field more, none
missing, and each one reads back with the receiver's and the sender's parsers."""

from __future__ import annotations

import subprocess
import sys

import msgspec
import pytest

from shared.messages import Push, PushList, PushMessage, PushUpdate, read


def _fields(shape: type[msgspec.Struct]) -> set[str]:
    return set(shape.__struct_fields__)


@pytest.fixture
def anna(api):
    user = api.account("anna")
    laptop = api.login(user, "anna-laptop", platform="linux")
    phone = api.login(user, "anna-phone", platform="android")
    return laptop, phone


def test_a_created_push_and_its_listing_are_the_push_shape(api, anna):
    laptop, _ = anna
    created = api.push(laptop, ["anna-phone"]).get_json()
    (push,) = read(created, PushList).pushes
    assert set(created["pushes"][0]) == _fields(Push) - {"history"}
    assert push.device_id == "anna-phone" and push.app.id == "org.videolan.vlc"

    listed = api.client.get("/api/v1/pushes?role=sent", headers=laptop).get_json()
    assert [p.id for p in read(listed, PushList).pushes] == [push.id]

    shown = api.client.get(f"/api/v1/pushes/{push.id}", headers=laptop).get_json()
    assert set(shown) == _fields(Push)
    assert [step.state for step in read(shown, Push).history][:1] == ["queued"]


def test_the_push_event_is_the_push_message_shape_and_passes_the_receivers_checks(api, anna):
    laptop, phone = anna
    api.push(laptop, ["anna-phone"])
    event = api.first_push_message(phone)
    assert set(event) == _fields(PushMessage)
    message = PushMessage.from_dict(event)  # the receiver's own parser (shared by record.parse_push)
    assert message.sender.device_id == "anna-laptop"
    assert message.package is not None and message.package.url.startswith("http")


def test_a_report_reaches_the_sender_as_the_push_update_shape(api, anna):
    laptop, phone = anna
    push_id = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]
    assert api.report(phone, push_id, "downloading", bytes_done=5, bytes_total=10).status_code == 200
    stream = api.client.get("/api/v1/stream?last_event_id=0", headers=laptop, buffered=False)
    try:
        text = ""
        for chunk in stream.response:
            text += chunk.decode() if isinstance(chunk, bytes) else chunk
            if '"state":"downloading"' in text and text.endswith("\n\n"):
                break
    finally:
        stream.close()
    block = next(b for b in text.split("\n\n") if "event: push_update" in b and '"downloading"' in b)
    data = msgspec.json.decode(block.split("data: ", 1)[1])
    assert set(data) == _fields(PushUpdate)
    update = read(data, PushUpdate)
    assert (update.push_id, update.state, update.percent) == (push_id, "downloading", 50)


def test_the_protocol_and_the_shapes_never_import_signing():
    code = "import sys, shared.protocol, shared.messages; print('shared.signing' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
