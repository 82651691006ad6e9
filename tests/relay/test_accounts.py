"""Accounts, login, logout and bearer tokens (``docs/api.md``, "Accounts and devices")."""

from __future__ import annotations

from relay_server import auth
from relay_server.db import database
from relay_server.models import Account, Device, Token


def _error(resp) -> dict:
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str), body
    return body["error"]


def _login_body(username="anna", password="correct horse", device_id="anna-phone", **device):
    return {
        "username": username,
        "password": password,
        "device": {
            "id": device_id,
            "name": device.get("name", "Anna's Pixel"),
            "model": device.get("model", "Pixel 8"),
            "platform": device.get("platform", "android"),
        },
    }


def _count(model) -> int:
    with database.connection_context():
        return model.select().count()


# --------------------------------------------------------------------------- creating accounts


def test_create_account_answers_201_with_the_username(client):
    resp = client.post("/api/v1/accounts", json={"username": "anna", "password": "correct horse"})

    assert resp.status_code == 201
    assert resp.get_json() == {"username": "anna"}


def test_username_is_normalised_to_lower_case(client):
    resp = client.post("/api/v1/accounts", json={"username": "  Anna.B_1 ", "password": "correct horse"})

    assert resp.status_code == 201
    assert resp.get_json() == {"username": "anna.b_1"}


def test_duplicate_username_is_409_username_taken(client, api):
    api.account("anna")

    resp = client.post("/api/v1/accounts", json={"username": "ANNA", "password": "another password"})

    assert resp.status_code == 409
    assert _error(resp)["code"] == "username_taken"
    assert _count(Account) == 1


BAD_USERNAMES = ["ab", "a" * 33, "anna smith", "anna!", "\u00e4nna", "-anna", "", None, 42, ["anna"], {"u": "anna"}]


def test_bad_username_is_400_naming_the_field(client, subtests):
    for username in BAD_USERNAMES:
        with subtests.test(username=username):
            resp = client.post("/api/v1/accounts", json={"username": username, "password": "correct horse"})

            assert resp.status_code == 400
            assert "username" in _error(resp)["message"]
    assert _count(Account) == 0


BAD_PASSWORDS = ["short", "1234567", "", None, 12345678, "x" * 257, ["correct horse"]]


def test_short_or_bad_password_is_400_naming_the_field(client, subtests):
    for password in BAD_PASSWORDS:
        with subtests.test(password=password):
            resp = client.post("/api/v1/accounts", json={"username": "anna", "password": password})

            assert resp.status_code == 400
            assert "password" in _error(resp)["message"]
    assert _count(Account) == 0


def test_password_of_exactly_8_and_256_characters_is_accepted(client):
    assert client.post("/api/v1/accounts", json={"username": "anna", "password": "8" * 8}).status_code == 201
    assert client.post("/api/v1/accounts", json={"username": "bert", "password": "x" * 256}).status_code == 201


def test_password_is_stored_hashed_never_in_clear(client, api):
    api.account("anna", password="correct horse")

    with database.connection_context():
        stored = Account.get(Account.username == "anna").password_hash
    assert "correct horse" not in stored
    assert stored.startswith("$argon2")


# --------------------------------------------------------------------------- login


def test_login_registers_the_device_and_returns_a_working_token(client, api):
    api.account("anna")

    resp = client.post("/api/v1/login", json=_login_body())

    assert resp.status_code == 200
    body = resp.get_json()
    assert body["account"] == {"username": "anna"}
    assert body["device"]["id"] == "anna-phone"
    assert body["device"]["name"] == "Anna's Pixel"
    assert body["device"]["model"] == "Pixel 8"
    assert body["device"]["platform"] == "android"
    assert body["device"]["owner"] == "anna"
    assert body["device"]["relation"] == "self"
    assert body["device"]["formats"] == ["apk"]
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["device"]["id"] == "anna-phone"


def test_relay_stores_only_the_digest_of_the_token(client, api):
    api.account("anna")
    token = client.post("/api/v1/login", json=_login_body()).get_json()["token"]

    with database.connection_context():
        hashes = [t.token_hash for t in Token.select()]
    assert token not in hashes
    assert hashes == [auth.token_digest(token)]


def test_login_username_is_case_insensitive(client, api):
    api.account("anna")

    assert client.post("/api/v1/login", json=_login_body(username="Anna")).status_code == 200


def test_wrong_password_is_401_with_the_same_message_as_an_unknown_user(client, api):
    api.account("anna")

    wrong = client.post("/api/v1/login", json=_login_body(password="wrong horse"))
    unknown = client.post("/api/v1/login", json=_login_body(username="nobody"))

    assert wrong.status_code == unknown.status_code == 401
    assert _error(wrong) == _error(unknown)
    assert _error(wrong)["code"] == "bad_credentials"
    assert _count(Device) == 0, "a failed login must not register the device"


def test_device_id_of_another_account_is_409_without_saying_whose(client, api):
    api.account("anna")
    api.account("ben")
    api.login("anna", "shared-phone")

    resp = client.post("/api/v1/login", json=_login_body(username="ben", device_id="shared-phone"))

    assert resp.status_code == 409
    assert _error(resp)["code"] == "device_id_unavailable"
    assert "account" not in _error(resp)["message"]
    with database.connection_context():
        assert Device.get_by_id("shared-phone").account.username == "anna"


def test_relogin_updates_name_model_and_platform_and_keeps_one_device(client, api):
    api.account("anna")
    api.login("anna", "anna-tab", platform="android", name="Old name", model="Old model")

    resp = client.post(
        "/api/v1/login", json=_login_body(device_id="anna-tab", name="New name", model="iPad Air", platform="ios")
    )

    assert resp.status_code == 200
    device = resp.get_json()["device"]
    assert (device["name"], device["model"], device["platform"]) == ("New name", "iPad Air", "ios")
    assert device["formats"] == ["ipa", "pxl", "deb"]
    assert _count(Device) == 1
    other = api.login("anna", "anna-laptop", platform="linux")
    listed = client.get("/api/v1/devices", headers=other).get_json()["devices"]
    assert [(d["id"], d["name"], d["platform"]) for d in listed] == [("anna-tab", "New name", "ios")]


def test_each_login_gets_its_own_token_and_old_tokens_keep_working(client, api):
    api.account("anna")
    first = api.login("anna", "anna-phone")
    second = api.login("anna", "anna-phone")

    assert first != second
    assert client.get("/api/v1/me", headers=first).status_code == 200
    assert client.get("/api/v1/me", headers=second).status_code == 200


BAD_DEVICES = [
    (None, "device"),
    ("phone", "device"),
    ({"id": "p", "name": "n", "model": "m", "platform": "blackberry"}, "device.platform"),
    ({"id": "p", "name": "n", "model": "m"}, "device.platform"),
    ({"id": "", "name": "n", "model": "m", "platform": "android"}, "device.id"),
    ({"id": "a b", "name": "n", "model": "m", "platform": "android"}, "device.id"),
    ({"id": "x" * 129, "name": "n", "model": "m", "platform": "android"}, "device.id"),
    ({"id": "p", "name": "", "model": "m", "platform": "android"}, "device.name"),
    ({"id": "p", "name": "n" * 101, "model": "m", "platform": "android"}, "device.name"),
    ({"id": "p", "name": "n", "model": None, "platform": "android"}, "device.model"),
]


def test_login_with_a_bad_device_is_400_naming_the_field(client, api, subtests):
    api.account("anna")
    for device, field in BAD_DEVICES:
        with subtests.test(device=device):
            resp = client.post(
                "/api/v1/login", json={"username": "anna", "password": "correct horse", "device": device}
            )

            assert resp.status_code == 400
            assert field in _error(resp)["message"]
    assert _count(Device) == 0


def test_device_ids_may_use_dots_colons_dashes_underscores_up_to_128(client, api):
    api.account("anna")
    for device_id in ["a", "Pixel-8_a.b:c", "x" * 128]:
        assert client.post("/api/v1/login", json=_login_body(device_id=device_id)).status_code == 200


# --------------------------------------------------------------------------- logout and /me


def test_logout_revokes_the_token(client, api):
    api.account("anna")
    auth_header = api.login("anna", "anna-phone")

    assert client.post("/api/v1/logout", headers=auth_header).status_code == 204

    resp = client.get("/api/v1/me", headers=auth_header)
    assert resp.status_code == 401
    assert _error(resp)["code"] == "unauthorized"
    assert client.post("/api/v1/logout", headers=auth_header).status_code == 401


def test_logout_revokes_only_that_token(client, api):
    api.account("anna")
    phone = api.login("anna", "anna-phone")
    laptop = api.login("anna", "anna-laptop", platform="linux")

    client.post("/api/v1/logout", headers=phone)

    assert client.get("/api/v1/me", headers=laptop).status_code == 200


def test_me_shows_account_and_calling_device(client, api):
    api.account("anna")
    auth_header = api.login("anna", "anna-laptop", platform="linux", name="Work laptop", model="X1")

    resp = client.get("/api/v1/me", headers=auth_header)

    assert resp.status_code == 200
    body = resp.get_json()
    assert body["account"] == {"username": "anna"}
    assert body["device"]["id"] == "anna-laptop"
    assert body["device"]["name"] == "Work laptop"
    assert body["device"]["platform"] == "linux"
    assert body["device"]["relation"] == "self"


BAD_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic YW5uYTpjb3JyZWN0IGhvcnNl",
    "Token abc",
    "Bearer not-a-token",
    "Bearer " + "A" * 5000,
    "Bearer \u00e9\u00e9",
]


def test_missing_malformed_or_unknown_bearer_is_401(client, api, subtests):
    api.account("anna")
    api.login("anna", "anna-phone")
    for header in BAD_AUTHORIZATION:
        headers = {} if header is None else {"Authorization": header}
        for method, path in [
            ("GET", "/api/v1/me"),
            ("POST", "/api/v1/logout"),
            ("GET", "/api/v1/devices"),
            ("GET", "/api/v1/pushes"),
            ("GET", "/api/v1/friends"),
        ]:
            with subtests.test(header=(header or "")[:20], method=method, path=path):
                resp = client.open(path, method=method, headers=headers)
                assert resp.status_code == 401
                assert _error(resp)["code"] == "unauthorized"
                assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")
