"""The core push rules, end to end through the HTTP API (in-process)."""

from __future__ import annotations


def test_push_to_own_device_is_install_now_and_friend_gets_notify(api, client):
    anna = api.account("anna")
    ben = api.account("ben")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    ben_phone = api.login(ben, "ben-phone")
    api.befriend(anna, laptop, ben, ben_phone)

    resp = api.push(laptop, ["anna-phone", "ben-phone"], mode="install_now")

    assert resp.status_code == 201
    by_device = {p["device_id"]: p for p in resp.get_json()["pushes"]}
    assert by_device["anna-phone"]["mode"] == "install_now"
    assert by_device["ben-phone"]["mode"] == "notify"
    assert by_device["ben-phone"]["requested_mode"] == "install_now"
    assert {p["state"] for p in by_device.values()} == {"queued"}
    assert by_device["anna-phone"]["format"] == "apk"


def test_push_to_stranger_creates_nothing(api, client):
    anna = api.account("anna")
    api.account("eve")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    api.login("eve", "eve-phone")

    resp = api.push(laptop, ["anna-phone", "eve-phone"])

    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "not_associated"
    assert client.get("/api/v1/pushes?role=sent", headers=laptop).get_json()["pushes"] == []


def test_incompatible_device_is_refused_with_reason(api):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-ipad", platform="ios")

    resp = api.push(laptop, ["anna-ipad"], app={"id": "org.fdroid.fdroid"})

    assert resp.status_code == 422
    assert "iOS installs ipa" in resp.get_json()["error"]["message"]
