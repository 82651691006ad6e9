"""Devices report what they have installed; their own account sees it in the device list, so the
picker can say "Installed" or "Update" (issue 14, item 4)."""

from __future__ import annotations


def _devices(client, auth, app_id):
    answer = client.get(f"/api/v1/devices?app_id={app_id}&format=apk", headers=auth).get_json()["devices"]
    return {d["id"]: d for d in answer}


def test_own_devices_show_the_version_they_have(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    api.login(anna, "anna-tablet")
    resp = client.put(
        "/api/v1/me/installed",
        headers=phone,
        json={
            "apps": [
                {"id": "org.videolan.vlc", "version": "3.5.4", "version_code": 13050400},
                {"id": "org.fdroid.fdroid", "version": "1.20"},
            ]
        },
    )
    assert resp.status_code == 200 and resp.get_json() == {"installed": 2}

    devices = _devices(client, laptop, "org.videolan.vlc")

    assert devices["anna-phone"]["installed"] == {"version": "3.5.4", "version_code": 13050400}
    assert devices["anna-tablet"]["installed"] is None


def test_a_new_report_replaces_the_old_one(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    client.put("/api/v1/me/installed", headers=phone, json={"apps": [{"id": "org.videolan.vlc", "version": "3.5"}]})
    client.put("/api/v1/me/installed", headers=phone, json={"apps": []})  # uninstalled

    assert _devices(client, laptop, "org.videolan.vlc")["anna-phone"]["installed"] is None


def test_a_friend_never_sees_what_is_installed(api, client):
    anna = api.account("anna")
    anna_phone = api.login(anna, "anna-phone")
    ben = api.account("ben")
    ben_laptop = api.login(ben, "ben-laptop", platform="linux")
    api.befriend("anna", anna_phone, "ben", ben_laptop)
    client.put(
        "/api/v1/me/installed", headers=anna_phone, json={"apps": [{"id": "org.videolan.vlc", "version": "3.5"}]}
    )

    seen = _devices(client, ben_laptop, "org.videolan.vlc")["anna-phone"]

    assert "installed" not in seen


def test_bad_reports_are_refused_and_change_nothing(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    client.put("/api/v1/me/installed", headers=phone, json={"apps": [{"id": "org.videolan.vlc", "version": "3.5"}]})
    for bad in (
        {"apps": "vlc"},
        {"apps": [{"id": "not an id!"}]},
        {"apps": [{"id": "a.b", "version_code": -1}]},
        {"apps": [{"id": "a.b"}] * 2001},
    ):
        assert client.put("/api/v1/me/installed", headers=phone, json=bad).status_code == 400

    assert _devices(client, laptop, "org.videolan.vlc")["anna-phone"]["installed"]["version"] == "3.5"
