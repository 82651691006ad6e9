"""The API's request and answer shapes (``shared/api_messages.py``): a bad request body is refused
naming the field, as the relay always answered; answers read back into their shapes; the wire
names stay the ones old clients know."""

from __future__ import annotations

import typing

import msgspec
import pytest

from shared.api_messages import (
    API_SCHEMA_SHAPES,
    DeviceInfo,
    DeviceList,
    Error,
    InstalledApps,
    Login,
    NewAccount,
    PairingClaim,
    PasswordChange,
    PushReport,
    ReportedState,
    Session,
)
from shared.messages import encode, read
from shared.protocol import DEVICE_REPORTED_STATES, ProtocolError

KEY = "A" * 43 + "="  # base64 of 32 zero bytes
DEVICE = {"id": "phone-1", "name": " Pixel ", "model": "Pixel 8", "platform": "android"}


@pytest.mark.parametrize(
    ("shape", "body", "sentence"),
    [
        (NewAccount, {"username": "x", "password": "long enough"}, "username: 3-32 characters"),
        (NewAccount, {"username": "alice", "password": "short"}, "password: must be a string of 8-256 characters"),
        (Login, {"username": "alice", "password": "pw"}, "device: give {id, name, model, platform}"),
        (Login, {"password": "pw", "device": {**DEVICE, "platform": "palm"}}, "device.platform: one of android"),
        (Login, {"password": "pw", "device": {**DEVICE, "model": ""}}, "device.model: 1-100 characters"),
        (Login, {"password": "pw", "device": {**DEVICE, "public_key": "nope"}}, "device.public_key"),
        (PasswordChange, {"current_password": "a", "new_password": 7}, "new_password: must be a string of 8-256"),
        (InstalledApps, {"apps": {}}, "apps: give a list of {id, version, version_code}"),
        (InstalledApps, {"apps": [{"id": "org.a", "version_code": True}]}, "apps[0].version_code: a whole number"),
        (InstalledApps, {"apps": [{"id": "org.a", "version": "x" * 65}]}, "apps[0].version: text of at most 64"),
    ],
)
def test_a_bad_request_body_is_refused_naming_the_field(shape, body, sentence):
    with pytest.raises(ProtocolError) as refused:
        shape.from_dict(body)

    assert str(refused.value).startswith(sentence)


def test_a_good_login_is_read_as_the_relay_stores_it():
    login = Login.from_dict({"username": " Alice ", "password": "pw", "device": {**DEVICE, "public_key": KEY}})

    assert login.username == "alice"
    assert login.device == DeviceInfo("phone-1", "Pixel", "Pixel 8", "android", KEY)  # type: ignore[arg-type]
    claim = PairingClaim.from_dict({"code": 1234, "device": DEVICE})
    assert claim.code == "" and claim.device.public_key is None


def test_an_app_reported_twice_counts_once_with_its_last_version():
    report = InstalledApps.from_dict({"apps": [{"id": "org.a", "version": "1"}, {"id": "org.a", "version": "2"}]})

    assert [(a.id, a.version) for a in report.apps] == [("org.a", "2")]


def test_answers_keep_their_wire_names_and_read_back():
    device = {
        "id": "phone-1",
        "name": "Pixel",
        "model": "Pixel 8",
        "platform": "android",
        "owner": "alice",
        "relation": "self",
        "online": False,
        "last_seen": "2026-11-30T12:00:00+00:00",
        "formats": ["apk"],
        "public_key": None,
        "fingerprint": None,
        "compatible": True,
        "reason": None,
    }
    wire = {"token": "t0k", "account": {"username": "alice"}, "device": device}

    session = read(wire, Session)

    assert session.device.owner == "alice" and session.account.username == "alice"
    assert msgspec.json.decode(encode(session)) == wire  # ``installed`` only when asked for
    listed = read({"devices": [{**device, "installed": {"version": "3.6", "version_code": 36}}]}, DeviceList)
    installed = listed.devices[0].installed
    assert not isinstance(installed, msgspec.UnsetType) and installed is not None and installed.version == "3.6"
    assert read({"error": {"code": "x", "message": "y"}}, Error).error.message == "y"
    assert msgspec.json.decode(encode(Error.of("busy", "try again"))) == {
        "error": {"code": "busy", "message": "try again"}
    }


def test_an_answer_of_the_wrong_shape_names_the_field():
    with pytest.raises(ProtocolError, match="device.relation"):
        read({"token": "t", "account": {"username": "a"}, "device": {"relation": "cousin"}}, Session)


def test_the_reported_states_are_the_protocols():
    assert set(typing.get_args(ReportedState)) == {str(s) for s in DEVICE_REPORTED_STATES}
    assert msgspec.json.decode(encode(PushReport("downloading", bytes_done=5))) == {
        "state": "downloading",
        "bytes_done": 5,
    }


def test_every_shape_has_a_schema():
    _, components = msgspec.json.schema_components(API_SCHEMA_SHAPES)

    assert {shape.__name__ for shape in API_SCHEMA_SHAPES} <= set(components)
