"""Removing a device works whatever tables the relay's optional parts use (regression)."""

from __future__ import annotations


def test_removing_a_device_that_held_a_stream_row_is_204(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")

    assert client.delete("/api/v1/devices/anna-phone", headers=laptop).status_code == 204
    assert [d["id"] for d in client.get("/api/v1/devices", headers=laptop).get_json()["devices"]] == []
