"""Pairing a phone by a one-time code instead of its password (issue 14, relay side)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relay_server.db import database, utcnow
from relay_server.models import Pairing
from shared.pairing import ALPHABET, parse_qr_payload
from shared.signing import DeviceKey, fingerprint

PHONE = {"id": "anna-new-phone", "name": "Anna's new Pixel", "model": "Pixel 9", "platform": "android"}


@pytest.fixture
def anna(api):
    username = api.account("anna")
    laptop_key = DeviceKey.generate()
    laptop = api.login(username, "anna-laptop", platform="linux", public_key=laptop_key.public_key)
    return laptop, laptop_key


def _claim(client, code, device=PHONE, **environ):
    return client.post("/api/v1/pairings/claim", json={"code": code, "device": device}, environ_base=environ or {})


def test_a_code_signs_a_new_phone_in_and_names_the_computer_that_paired_it(api, client, anna):
    laptop, laptop_key = anna
    made = client.post("/api/v1/pairings", headers=laptop)
    assert made.status_code == 201
    code = made.get_json()["code"]
    assert len(code) == 9 and code[4] == "-" and all(ch in ALPHABET for ch in code.replace("-", ""))
    payload = parse_qr_payload(made.get_json()["qr_payload"])
    assert payload["code"] == code and payload["fp"] == fingerprint(laptop_key.public_key)
    assert payload["relay"].startswith("http://localhost")

    claimed = _claim(client, code.lower().replace("-", " "))  # typed loosely: still the same code

    assert claimed.status_code == 200, claimed.get_json()
    body = claimed.get_json()
    assert body["account"] == {"username": "anna"}
    assert body["paired_by"]["device_id"] == "anna-laptop"
    assert body["paired_by"]["public_key"] == laptop_key.public_key
    phone = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/me", headers=phone).get_json()["device"]["id"] == "anna-new-phone"
    devices = {d["id"] for d in client.get("/api/v1/devices", headers=laptop).get_json()["devices"]}
    assert "anna-new-phone" in devices


def test_a_code_works_once(client, anna):
    laptop, _ = anna
    code = client.post("/api/v1/pairings", headers=laptop).get_json()["code"]
    assert _claim(client, code).status_code == 200

    again = _claim(client, code, device={**PHONE, "id": "someone-else"})

    assert again.status_code == 410 and again.get_json()["error"]["code"] == "code_used"


def test_an_expired_code_is_refused_and_changes_nothing(client, anna):
    laptop, _ = anna
    code = client.post("/api/v1/pairings", headers=laptop).get_json()["code"]
    with database.connection_context():  # ten minutes and a second later
        Pairing.update(expires_at=utcnow() - timedelta(seconds=1)).execute()

    resp = _claim(client, code)

    assert resp.status_code == 410 and resp.get_json()["error"]["code"] == "code_expired"
    devices = {d["id"] for d in client.get("/api/v1/devices", headers=laptop).get_json()["devices"]}
    assert "anna-new-phone" not in devices


@pytest.mark.parametrize("code, status", [("ABCD-EFGH", 404), ("too-short", 400), ("0OIL-0OIL", 400)])
def test_unknown_and_malformed_codes_are_refused(client, anna, code, status):
    resp = _claim(client, code)

    assert resp.status_code == status
    assert resp.get_json()["error"]["message"]


def test_making_codes_needs_a_signed_in_device(client):
    assert client.post("/api/v1/pairings").status_code == 401


def test_guessing_codes_is_slowed_like_guessing_passwords(relay_config):
    from relay_server.app import close_app, create_app

    app = create_app(relay_config.with_(rate_limits=True, limit_login_failures="3/minute"))
    try:
        client = app.test_client()
        answers = [_claim(client, f"ABCD-EFG{ch}", REMOTE_ADDR="203.0.113.9").status_code for ch in "23456"]
    finally:
        close_app(app)
    assert answers[:3] == [404, 404, 404] and set(answers[3:]) == {429}
