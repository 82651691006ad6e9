"""This account's devices as the phone's Settings lists them, and the sentences about removing one."""

from __future__ import annotations

from mobile_receiver.devices import own_devices, remove_question, removed_sentence
from shared.api_messages import Device
from shared.messages import read
from tests.helpers.messages import device_json

THIS = {"id": "anna-pixel", "name": "Anna's Pixel", "model": "Pixel 8", "platform": "android"}


def device(device_id: str, **fields) -> Device:
    """A device as the relay lists it."""
    return read(device_json(device_id, **fields), Device)


def test_this_phone_first_and_marked_friends_left_out():
    listed = [
        device("anna-laptop", name="Anna's laptop", model="ThinkPad", platform="linux", online=True),
        device("kim-phone", name="Kim's phone", relation="friend", online=True),
        device("anna-ipad", name="anna's iPad", model="iPad", platform="ios"),
    ]

    lines = own_devices(listed, THIS)

    assert [(line.device_id, line.this) for line in lines] == [
        ("anna-pixel", True),
        ("anna-ipad", False),
        ("anna-laptop", False),
    ]
    assert lines[0].hint == "This phone · Pixel 8 · Android"
    assert lines[1].hint == "Offline · iPad · iOS"
    assert lines[2].hint == "Online · ThinkPad · Linux"


def test_this_phone_is_listed_once_even_when_the_relay_lists_it():
    lines = own_devices([device("anna-pixel", name="Old name", online=True)], THIS)
    assert [(line.name, line.this) for line in lines] == [("Anna's Pixel", True)]


def test_the_questions_and_the_sentence_after_a_removal():
    assert remove_question("Anna's laptop", False, "anna") == (
        "Remove Anna's laptop? It is signed out at once and gets no more apps until it signs in again."
    )
    assert remove_question("Anna's Pixel", True, "anna").startswith("Remove this phone from anna's account?")
    assert removed_sentence("anna", "https://relay.example:8765") == (
        "This phone was signed out of anna's account on the relay at relay.example:8765: it was removed from the "
        "account, or the password was changed. Pair again or sign in."
    )


def test_a_late_refusal_of_an_older_token_does_not_sign_out_a_fresh_login(tmp_path):
    from mobile_receiver.service import ReceiverService
    from tests.receiver.fakes import fake_platform

    service = ReceiverService(tmp_path, platform=fake_platform(tmp_path))
    service.profile.username, service.profile.token = "anna", "token-after-signing-in-again"

    service._removed_by_relay("token-before")  # a report sent with the old token, refused late
    assert service.profile.token == "token-after-signing-in-again"
    assert service.connection.state != "signed_out"

    service._removed_by_relay("token-after-signing-in-again")  # the current token is refused
    assert service.profile.token is None and service.connection.state == "signed_out"
    assert service.profile.removed_notice.startswith("This phone was signed out of anna's account")
