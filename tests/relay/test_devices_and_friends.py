"""The device list for the sender's picker [5, 0062], removing devices, and friends [13, 0049]."""

from __future__ import annotations

import pytest

from relay_server.db import database
from relay_server.models import Device, Push


def _error(resp) -> dict:
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    return body["error"]


@pytest.fixture
def world(api):
    """anna (laptop, phone, ipad), her friend ben (phone), pending-friend carl (phone), stranger eve."""
    for name in ("anna", "ben", "carl", "eve"):
        api.account(name)
    laptop = api.login("anna", "anna-laptop", platform="linux", name="Anna's laptop")
    phone = api.login("anna", "anna-phone", platform="android", name="Anna's Pixel", model="Pixel 8")
    ipad = api.login("anna", "anna-ipad", platform="ios", name="Anna's iPad", model="iPad Air")
    ben = api.login("ben", "ben-phone", platform="android", name="Ben's phone")
    carl = api.login("carl", "carl-phone", platform="android", name="Carl's phone")
    eve = api.login("eve", "eve-phone", platform="android", name="Eve's phone")
    api.befriend("anna", laptop, "ben", ben)
    assert api.client.post("/api/v1/friends", json={"username": "anna"}, headers=carl).status_code == 201
    return {"laptop": laptop, "phone": phone, "ipad": ipad, "ben": ben, "carl": carl, "eve": eve}


def _devices(client, auth_header, query=""):
    resp = client.get(f"/api/v1/devices{query}", headers=auth_header)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["devices"]


# --------------------------------------------------------------------------- GET /devices


def test_devices_lists_own_devices_first_then_accepted_friends_never_the_caller(client, world):
    devices = _devices(client, world["laptop"])

    assert sorted(d["id"] for d in devices[:2]) == ["anna-ipad", "anna-phone"]
    assert [d["id"] for d in devices[2:]] == ["ben-phone"]
    assert [d["relation"] for d in devices] == ["self", "self", "friend"]
    assert [d["owner"] for d in devices] == ["anna", "anna", "ben"]


def test_pending_and_stranger_devices_are_not_listed(client, world):
    ids = {d["id"] for d in _devices(client, world["laptop"])}

    assert "carl-phone" not in ids
    assert "eve-phone" not in ids


def test_friend_sees_the_other_side_of_the_friendship(client, world):
    devices = _devices(client, world["ben"])

    assert sorted((d["id"], d["relation"], d["owner"]) for d in devices) == [
        ("anna-ipad", "friend", "anna"),
        ("anna-laptop", "friend", "anna"),
        ("anna-phone", "friend", "anna"),
    ]


def test_device_entry_has_the_documented_fields(client, world):
    phone = next(d for d in _devices(client, world["laptop"]) if d["id"] == "anna-phone")

    assert phone == {
        "id": "anna-phone",
        "name": "Anna's Pixel",
        "model": "Pixel 8",
        "platform": "android",
        "owner": "anna",
        "relation": "self",
        "online": False,
        "last_seen": phone["last_seen"],
        "formats": ["apk"],
        "compatible": True,
        "reason": None,
        "public_key": None,
        "fingerprint": None,  # this phone logged in without a key
    }
    assert phone["last_seen"] and phone["last_seen"].endswith("+00:00")


def test_device_with_an_open_stream_is_online(client, world):
    stream = client.get("/api/v1/stream", headers={**world["phone"], "Accept": "text/event-stream"}, buffered=False)
    try:
        assert stream.status_code == 200
        next(iter(stream.response))  # the stream has started
        online = {d["id"]: d["online"] for d in _devices(client, world["laptop"])}
        assert online == {"anna-ipad": False, "anna-phone": True, "ben-phone": False}
    finally:
        stream.close()
    assert {d["id"]: d["online"] for d in _devices(client, world["laptop"])}["anna-phone"] is False


def test_format_apk_marks_ios_incompatible_with_a_reason(client, world):
    devices = {d["id"]: d for d in _devices(client, world["laptop"], "?format=apk")}

    assert devices["anna-phone"]["compatible"] is True
    assert devices["anna-phone"]["reason"] is None
    assert devices["anna-ipad"]["compatible"] is False
    assert devices["anna-ipad"]["reason"] == "iOS installs ipa, pxl, deb; this app comes as apk"
    assert devices["ben-phone"]["compatible"] is True


def test_incompatible_devices_are_shown_not_hidden(client, world):
    assert len(_devices(client, world["laptop"], "?format=sisx")) == 3
    assert all(not d["compatible"] and d["reason"] for d in _devices(client, world["laptop"], "?format=sisx"))


def test_several_formats_make_both_platforms_compatible(client, world):
    devices = _devices(client, world["laptop"], "?format=ipa&format=apk")

    assert all(d["compatible"] for d in devices)
    assert all(d["reason"] is None for d in devices)


def test_format_is_case_insensitive(client, world):
    devices = {d["id"]: d for d in _devices(client, world["laptop"], "?format=APK")}

    assert devices["anna-ipad"]["compatible"] is False


@pytest.mark.parametrize("query", ["?format=zip", "?format=apk&format=exe2", "?format=%00"])
def test_unknown_format_is_400(client, world, query):
    resp = client.get(f"/api/v1/devices{query}", headers=world["laptop"])

    assert resp.status_code == 400
    assert "format" in _error(resp)["message"]


def test_device_list_needs_a_token(client, world):
    assert client.get("/api/v1/devices").status_code == 401


# --------------------------------------------------------------------------- DELETE /devices/<id>


def test_remove_own_device_removes_it_and_revokes_its_token(client, world):
    resp = client.delete("/api/v1/devices/anna-phone", headers=world["laptop"])

    assert resp.status_code == 204
    assert "anna-phone" not in {d["id"] for d in _devices(client, world["laptop"])}
    revoked = client.get("/api/v1/me", headers=world["phone"])
    assert revoked.status_code == 401
    with database.connection_context():
        assert Device.get_or_none(Device.id == "anna-phone") is None


def test_removed_device_can_log_in_again_as_a_new_device(client, api, world):
    client.delete("/api/v1/devices/anna-phone", headers=world["laptop"])

    again = api.login("anna", "anna-phone")

    assert client.get("/api/v1/me", headers=again).status_code == 200


def test_device_can_remove_itself(client, world):
    assert client.delete("/api/v1/devices/anna-phone", headers=world["phone"]).status_code == 204
    assert client.get("/api/v1/me", headers=world["phone"]).status_code == 401


@pytest.mark.parametrize("device_id", ["ben-phone", "eve-phone", "no-such-device"])
def test_removing_someone_elses_or_an_unknown_device_is_404_and_changes_nothing(client, world, device_id):
    resp = client.delete(f"/api/v1/devices/{device_id}", headers=world["laptop"])

    assert resp.status_code == 404
    assert _error(resp)["code"] == "unknown_device"
    assert client.get("/api/v1/me", headers=world["ben"]).status_code == 200
    assert client.get("/api/v1/me", headers=world["eve"]).status_code == 200


def test_removing_a_device_removes_its_pushes(client, api, world):
    created = api.push(world["laptop"], ["anna-phone"])
    assert created.status_code == 201

    client.delete("/api/v1/devices/anna-phone", headers=world["laptop"])

    assert client.get("/api/v1/pushes?role=sent", headers=world["laptop"]).get_json()["pushes"] == []
    with database.connection_context():
        assert Push.select().count() == 0


# --------------------------------------------------------------------------- friends


def _friends(client, auth_header):
    resp = client.get("/api/v1/friends", headers=auth_header)
    assert resp.status_code == 200
    return {f["username"]: f["status"] for f in resp.get_json()["friends"]}


def test_friend_request_is_pending_outgoing_for_asker_and_incoming_for_addressee(client, api):
    api.account("anna")
    api.account("ben")
    anna = api.login("anna", "anna-laptop", platform="linux")
    ben = api.login("ben", "ben-phone")

    resp = client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)

    assert resp.status_code == 201
    assert resp.get_json() == {"username": "ben", "status": "pending_outgoing"}
    assert _friends(client, anna) == {"ben": "pending_outgoing"}
    assert _friends(client, ben) == {"anna": "pending_incoming"}


def test_accepting_a_request_makes_both_friends_and_associates_devices(client, api):
    api.account("anna")
    api.account("ben")
    anna = api.login("anna", "anna-laptop", platform="linux")
    ben = api.login("ben", "ben-phone")
    client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)

    resp = client.post("/api/v1/friends/anna/accept", headers=ben)

    assert resp.status_code == 200
    assert resp.get_json() == {"username": "anna", "status": "accepted"}
    assert _friends(client, anna) == {"ben": "accepted"}
    assert _friends(client, ben) == {"anna": "accepted"}
    assert [d["id"] for d in _devices(client, anna)] == ["ben-phone"]
    assert api.push(anna, ["ben-phone"]).status_code == 201


def test_pending_request_does_not_associate_devices(client, api, world):
    resp = api.push(world["laptop"], ["carl-phone"])

    assert resp.status_code == 403
    assert _error(resp)["code"] == "not_associated"
    back = api.push(world["carl"], ["anna-phone"])
    assert back.status_code == 403


def test_asking_back_accepts_the_pending_request(client, api):
    api.account("anna")
    api.account("ben")
    anna = api.login("anna", "anna-laptop", platform="linux")
    ben = api.login("ben", "ben-phone")
    client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)

    resp = client.post("/api/v1/friends", json={"username": "anna"}, headers=ben)

    assert resp.status_code == 201
    assert resp.get_json() == {"username": "anna", "status": "accepted"}
    assert _friends(client, anna) == {"ben": "accepted"}


def test_asking_twice_is_409_and_asking_a_friend_is_409(client, api):
    api.account("anna")
    api.account("ben")
    anna = api.login("anna", "anna-laptop", platform="linux")
    ben = api.login("ben", "ben-phone")
    client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)

    again = client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)
    assert again.status_code == 409
    assert _error(again)["code"] == "already_requested"

    client.post("/api/v1/friends/anna/accept", headers=ben)
    friends = client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)
    assert friends.status_code == 409
    assert _error(friends)["code"] == "already_friends"


def test_befriending_yourself_is_409(client, api):
    api.account("anna")
    anna = api.login("anna", "anna-laptop", platform="linux")

    resp = client.post("/api/v1/friends", json={"username": "ANNA"}, headers=anna)

    assert resp.status_code == 409
    assert _error(resp)["code"] == "self"
    assert _friends(client, anna) == {}


def test_befriending_an_unknown_user_is_404(client, api):
    api.account("anna")
    anna = api.login("anna", "anna-laptop", platform="linux")

    resp = client.post("/api/v1/friends", json={"username": "nobody"}, headers=anna)

    assert resp.status_code == 404
    assert _error(resp)["code"] == "unknown_user"


@pytest.mark.parametrize(
    "body", [{}, {"username": ""}, {"username": "   "}, {"username": 5}, {"username": None}, {"username": ["ben"]}]
)
def test_friend_request_without_a_username_is_400(client, api, body):
    api.account("anna")
    anna = api.login("anna", "anna-laptop", platform="linux")

    resp = client.post("/api/v1/friends", json=body, headers=anna)

    assert resp.status_code == 400
    assert "username" in _error(resp)["message"]


def test_accept_without_a_request_is_404_and_asker_cannot_accept_own_request(client, api):
    api.account("anna")
    api.account("ben")
    anna = api.login("anna", "anna-laptop", platform="linux")
    ben = api.login("ben", "ben-phone")

    none = client.post("/api/v1/friends/ben/accept", headers=anna)
    assert none.status_code == 404
    assert _error(none)["code"] == "no_request"

    client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)
    own = client.post("/api/v1/friends/ben/accept", headers=anna)
    assert own.status_code == 404
    assert _friends(client, ben) == {"anna": "pending_incoming"}
    assert client.post("/api/v1/friends/nobody/accept", headers=anna).status_code == 404


def test_declining_a_request_removes_it(client, api):
    api.account("anna")
    api.account("ben")
    anna = api.login("anna", "anna-laptop", platform="linux")
    ben = api.login("ben", "ben-phone")
    client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)

    assert client.delete("/api/v1/friends/anna", headers=ben).status_code == 204

    assert _friends(client, anna) == {}
    assert _friends(client, ben) == {}
    assert client.post("/api/v1/friends/anna/accept", headers=ben).status_code == 404


def test_withdrawing_a_request_removes_it(client, api):
    api.account("anna")
    api.account("ben")
    anna = api.login("anna", "anna-laptop", platform="linux")
    ben = api.login("ben", "ben-phone")
    client.post("/api/v1/friends", json={"username": "ben"}, headers=anna)

    assert client.delete("/api/v1/friends/ben", headers=anna).status_code == 204
    assert _friends(client, ben) == {}


def test_ending_a_friendship_dissociates_devices(client, api, world):
    assert client.delete("/api/v1/friends/ben", headers=world["laptop"]).status_code == 204

    assert "ben-phone" not in {d["id"] for d in _devices(client, world["laptop"])}
    assert api.push(world["laptop"], ["ben-phone"]).status_code == 403
    assert _friends(client, world["ben"]) == {}


def test_removing_a_friendship_that_does_not_exist_is_404(client, world):
    no_friendship = client.delete("/api/v1/friends/eve", headers=world["laptop"])
    assert no_friendship.status_code == 404
    assert _error(no_friendship)["code"] == "not_friends"
    assert client.delete("/api/v1/friends/nobody", headers=world["laptop"]).status_code == 404


def test_friend_list_shows_all_three_statuses_sorted(client, api, world):
    api.account("dora")
    dora = api.login("dora", "dora-phone")
    client.post("/api/v1/friends", json={"username": "dora"}, headers=world["laptop"])

    resp = client.get("/api/v1/friends", headers=world["phone"])

    assert resp.get_json()["friends"] == [
        {"username": "ben", "status": "accepted"},
        {"username": "carl", "status": "pending_incoming"},
        {"username": "dora", "status": "pending_outgoing"},
    ]
    assert _friends(client, dora) == {"anna": "pending_incoming"}


def test_a_device_of_the_account_can_be_renamed_but_not_anyone_elses(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    ben = api.account("ben")
    ben_laptop = api.login(ben, "ben-laptop", platform="linux")

    resp = client.patch("/api/v1/devices/anna-phone", json={"name": "  Anna's Pixel  "}, headers=laptop)

    assert resp.status_code == 200 and resp.get_json()["device"]["name"] == "Anna's Pixel"
    names = {d["id"]: d["name"] for d in client.get("/api/v1/devices", headers=laptop).get_json()["devices"]}
    assert names["anna-phone"] == "Anna's Pixel"
    assert client.patch("/api/v1/devices/anna-phone", json={"name": "mine"}, headers=ben_laptop).status_code == 404
    assert client.patch("/api/v1/devices/anna-phone", json={"name": ""}, headers=laptop).status_code == 400
