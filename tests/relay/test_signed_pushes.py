"""Signed pushes on the relay: keys registered at login, signatures checked, stored and forwarded."""

from __future__ import annotations

import pytest

from relay_server.db import close_pool, database, init_database
from relay_server.models import Device, Push
from shared.messages import PushSignature
from shared.signing import (
    DeviceKey,
    PushFacts,
    facts_for,
    fingerprint,
    new_push_id,
    utc_timestamp,
    verify,
)


@pytest.fixture
def keys():
    return {"laptop": DeviceKey.generate(), "phone": DeviceKey.generate(), "other": DeviceKey.generate()}


@pytest.fixture
def fam(api, keys):
    for name in ("anna", "ben"):
        api.account(name)
    auths = {
        "laptop": api.login("anna", "anna-laptop", platform="linux", public_key=keys["laptop"].public_key),
        "phone": api.login("anna", "anna-phone", platform="android", public_key=keys["phone"].public_key),
        "ipad": api.login("anna", "anna-ipad", platform="ios"),
        "ben": api.login("ben", "ben-phone", platform="android"),
    }
    api.befriend("anna", auths["laptop"], "ben", auths["ben"])
    return auths


def _catalog_apk(client) -> tuple[dict, dict]:
    app = client.get("/api/v1/apps/org.videolan.vlc").get_json()
    return app, next(p for p in app["packages"] if p["format"] == "apk")


def _sign(key: DeviceKey, app: dict, apk: dict, *, device_id="anna-phone", mode="install_now", **changes) -> dict:
    facts = PushFacts(new_push_id(), device_id, mode, app["id"], app["version"], "apk", apk["sha256"], utc_timestamp())
    facts = PushFacts(**{**facts.__dict__, **changes})
    return key.sign(facts).to_dict()


def _push_count() -> int:
    with database.connection_context():
        return Push.select().count()


def test_login_registers_the_public_key_and_devices_show_its_fingerprint(client, api, fam, keys):
    devices = client.get("/api/v1/devices", headers=fam["laptop"]).get_json()["devices"]
    phone = next(d for d in devices if d["id"] == "anna-phone")
    ipad = next(d for d in devices if d["id"] == "anna-ipad")

    assert phone["public_key"] == keys["phone"].public_key
    assert phone["fingerprint"] == keys["phone"].fingerprint == fingerprint(keys["phone"].public_key)
    assert len(phone["fingerprint"]) == 19  # four groups of four hex digits
    assert ipad["public_key"] is None and ipad["fingerprint"] is None


def test_a_new_key_at_login_replaces_the_old_and_logging_in_without_one_keeps_it(api, fam, keys):
    api.login("anna", "anna-phone", public_key=keys["other"].public_key)
    api.login("anna", "anna-phone")

    with database.connection_context():
        assert Device.get_by_id("anna-phone").public_key == keys["other"].public_key


@pytest.mark.parametrize("bad", ["not base64!", "AAAA", "A" * 300, 42])
def test_a_malformed_public_key_is_refused_and_changes_nothing(client, api, fam, keys, bad):
    resp = client.post(
        "/api/v1/login",
        json={
            "username": "anna",
            "password": "correct horse",
            "device": {"id": "anna-phone", "name": "n", "model": "m", "platform": "android", "public_key": bad},
        },
    )

    assert resp.status_code == 400
    assert "device.public_key" in resp.get_json()["error"]["message"]
    with database.connection_context():
        assert Device.get_by_id("anna-phone").public_key == keys["phone"].public_key


def test_a_signed_push_keeps_the_signed_push_id_and_the_phone_gets_the_signature(client, api, fam, keys):
    app, apk = _catalog_apk(client)
    signature = _sign(keys["laptop"], app, apk)

    resp = api.push(fam["laptop"], ["anna-phone"], signatures={"anna-phone": signature})

    assert resp.status_code == 201, resp.get_json()
    (push,) = resp.get_json()["pushes"]
    assert push["id"] == signature["push_id"]
    assert push["signed"] is True
    message = api.first_push_message(fam["phone"])
    assert message["push_id"] == signature["push_id"]
    assert message["signature"] == signature
    # What the phone can check with the laptop's key, from the message alone:
    sig = PushSignature.from_dict(message["signature"])
    facts = facts_for(
        sig,
        device_id="anna-phone",
        mode=message["mode"],
        app_id=message["app"]["id"],
        version=message["app"]["version"],
        fmt=message["package"]["format"],
    )
    assert sig.sha256 == message["package"]["sha256"]
    assert verify(keys["laptop"].public_key, facts, sig.value)


def test_an_unsigned_push_still_works_and_says_so(client, api, fam):
    resp = api.push(fam["laptop"], ["anna-phone"])

    assert resp.status_code == 201
    assert resp.get_json()["pushes"][0]["signed"] is False
    assert api.first_push_message(fam["phone"])["signature"] is None


@pytest.mark.parametrize(
    "case, code",
    [
        ("wrong key", "bad_signature"),
        ("other version", "bad_signature"),
        ("other target", "bad_signature"),
        ("notify signed, install_now sent", "bad_signature"),
        ("other hash", "signature_mismatch"),
    ],
)
def test_a_signature_that_would_not_verify_is_refused_and_nothing_is_created(client, api, fam, keys, case, code):
    app, apk = _catalog_apk(client)
    signature = {
        "wrong key": lambda: _sign(keys["other"], app, apk),
        "other version": lambda: _sign(keys["laptop"], app, apk, version="0.0.1"),
        "other target": lambda: _sign(keys["laptop"], app, apk, device_id="anna-ipad"),
        "notify signed, install_now sent": lambda: _sign(keys["laptop"], app, apk, mode="notify"),
        "other hash": lambda: _sign(keys["laptop"], app, apk, sha256="0" * 64),
    }[case]()

    resp = api.push(fam["laptop"], ["anna-phone"], signatures={"anna-phone": signature})

    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["code"] == code
    assert _push_count() == 0


def test_a_reused_push_id_is_409_and_creates_nothing(client, api, fam, keys):
    app, apk = _catalog_apk(client)
    signature = _sign(keys["laptop"], app, apk)
    assert api.push(fam["laptop"], ["anna-phone"], signatures={"anna-phone": signature}).status_code == 201

    again = api.push(fam["laptop"], ["anna-phone"], signatures={"anna-phone": signature})

    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "push_exists"
    assert _push_count() == 1


def test_signatures_must_name_targets_of_the_push_and_need_a_registered_key(client, api, fam, keys):
    app, apk = _catalog_apk(client)
    stray = api.push(fam["laptop"], ["anna-phone"], signatures={"anna-ipad": _sign(keys["laptop"], app, apk)})
    keyless = api.push(fam["ipad"], ["anna-phone"], signatures={"anna-phone": _sign(keys["laptop"], app, apk)})
    malformed = api.push(fam["laptop"], ["anna-phone"], signatures={"anna-phone": {"push_id": "not a push id!"}})

    assert stray.status_code == keyless.status_code == malformed.status_code == 400
    assert keyless.get_json()["error"]["code"] == "no_public_key"
    assert "signatures.anna-phone.push_id" in malformed.get_json()["error"]["message"]
    assert _push_count() == 0


def test_a_database_from_before_signatures_gets_the_new_columns_and_keeps_its_rows(relay_config, api, fam):
    with database.connection_context():  # what a relay from before signed pushes made
        database.execute_sql("ALTER TABLE device DROP COLUMN public_key")
        database.execute_sql("ALTER TABLE push DROP COLUMN signature")
    close_pool()

    init_database(relay_config.effective_database_url)

    with database.connection_context():
        assert "public_key" in {c.name for c in database.get_columns("device")}
        assert "signature" in {c.name for c in database.get_columns("push")}
        assert Device.select().count() == 4


def test_a_device_that_logged_in_without_a_key_can_register_one_with_its_token(client, api, fam, keys):
    bad = client.put("/api/v1/me/key", headers=fam["ipad"], json={"public_key": "nope"})
    good = client.put("/api/v1/me/key", headers=fam["ipad"], json={"public_key": keys["other"].public_key})

    assert bad.status_code == 400
    assert good.status_code == 200
    assert good.get_json()["device"]["fingerprint"] == keys["other"].fingerprint
    with database.connection_context():
        assert Device.get_by_id("anna-ipad").public_key == keys["other"].public_key
    assert client.put("/api/v1/me/key", json={"public_key": keys["other"].public_key}).status_code == 401


def _kinds(device_id: str) -> list[str]:
    from relay_server.models import Event

    with database.connection_context():
        return [e.kind for e in Event.select().where(Event.device == device_id).order_by(Event.id)]


def test_a_new_key_is_announced_to_the_accounts_other_devices_only(api, fam, keys):
    before = _kinds("anna-phone").count("device_key")
    api.login("anna", "anna-laptop", platform="linux", public_key=keys["laptop"].public_key)  # same key
    assert _kinds("anna-phone").count("device_key") == before

    api.login("anna", "anna-laptop", platform="linux", public_key=keys["other"].public_key)

    assert _kinds("anna-phone").count("device_key") == before + 1
    assert "device_key" in _kinds("anna-ipad")
    assert "device_key" not in _kinds("ben-phone")
    assert _kinds("anna-laptop").count("device_key") == 1  # only the phone's first login, told to it
