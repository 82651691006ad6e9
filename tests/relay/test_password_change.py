"""A password change logs every device of the account out, except with the new token it returns."""

from __future__ import annotations


def test_password_change_revokes_every_token_of_the_account(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    ben = api.account("ben")
    ben_phone = api.login(ben, "ben-phone")

    resp = client.post(
        "/api/v1/password", headers=laptop, json={"current_password": "correct horse", "new_password": "battery staple"}
    )

    assert resp.status_code == 200
    fresh = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=laptop).status_code == 401
    assert client.get("/api/v1/me", headers=phone).status_code == 401
    assert client.get("/api/v1/me", headers=fresh).status_code == 200
    assert client.get("/api/v1/me", headers=ben_phone).status_code == 200  # other accounts untouched
    assert (
        client.post(
            "/api/v1/login",
            json={
                "username": anna,
                "password": "correct horse",
                "device": {"id": "anna-phone", "name": "p", "model": "m", "platform": "android"},
            },
        ).status_code
        == 401
    )
    api.login(anna, "anna-phone", password="battery staple")


def test_wrong_current_password_changes_nothing(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")

    resp = client.post(
        "/api/v1/password", headers=laptop, json={"current_password": "wrong", "new_password": "battery staple"}
    )

    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "bad_credentials"
    assert client.get("/api/v1/me", headers=laptop).status_code == 200
    api.login(anna, "anna-phone", password="correct horse")


def test_short_new_password_is_400(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    resp = client.post(
        "/api/v1/password", headers=laptop, json={"current_password": "correct horse", "new_password": "short"}
    )
    assert resp.status_code == 400
    assert "new_password" in resp.get_json()["error"]["message"]
