"""Regressions from the black-box probe of issue 11, each reproduced on the relay before its fix.

Private packages stay private, event ids never go back, a stream drains everything waiting,
a HEAD leaves no ghost stream, broken Unicode is a 400, and password guessing slows the
guesser without locking the owner out.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from relay_server import push_delivery
from relay_server.app import close_app, create_app
from relay_server.db import database
from relay_server.models import Push

OUTSIDE_APP = {
    "id": "org.example.private",
    "name": "Private",
    "version": "1.0",
    "packages": [{"format": "apk", "url": "https://downloads.invalid/private.apk"}],
}


def _events(
    client, auth: dict, last_event_id: int | None = None, *, until, timeout: float = 20.0, on_first_event=None
) -> list[dict]:
    """Read a device's stream until ``until(events)`` holds (or fail after ``timeout``);
    ``on_first_event()`` runs once, as soon as the first event arrived."""
    url = "/api/v1/stream" + (f"?last_event_id={last_event_id}" if last_event_id is not None else "")
    stream = client.get(url, headers=auth, buffered=False)
    seen, text, deadline = [], "", time.monotonic() + timeout
    try:
        for chunk in stream.response:  # keepalives every 0.2 s let the deadline be checked
            text += chunk.decode() if isinstance(chunk, bytes) else chunk
            *blocks, text = text.split("\n\n")
            for block in blocks:
                lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
                if "event" in lines:
                    seen.append({"id": int(lines["id"]), "event": lines["event"], "data": json.loads(lines["data"])})
            if seen and on_first_event is not None:
                on_first_event()
                on_first_event = None
            if until(seen):
                return seen
            if time.monotonic() > deadline:
                break
    finally:
        stream.close()
    raise AssertionError(f"the stream did not deliver what was expected; got {[e['event'] for e in seen]}")


def _pushes_to(events: list[dict]) -> list[str]:
    return [e["data"]["push_id"] for e in events if e["event"] == "push"]


# ----------------------------------------------------------------- private mirrored packages


def _mirrored_copy(app, api, anna_laptop) -> str:
    """Anna pushes an outside package to her offline phone; the relay keeps a copy (as the
    mirror would). Returns the copy's SHA-256."""
    relay = app.extensions["appbeam_relay"]
    relay.mirror.stop()  # this test makes the copy itself
    data = b"anna's private build " * 500
    sha = hashlib.sha256(data).hexdigest()
    with relay.store.writer(sha, len(data)) as writer:
        writer.write(data)
    push_id = api.push(anna_laptop, ["anna-phone"], app=OUTSIDE_APP, mode="notify").get_json()["pushes"][0]["id"]
    with database.connection_context():
        from relay_server.models import Package

        Package.insert(sha256=sha, size=len(data), content_type="application/octet-stream").execute()
        Push.update(mirror_status="pending").where(Push.id == push_id).execute()
        push_delivery.mirror_finished(relay, push_id, sha, len(data), None)
    return sha


def test_a_stranger_cannot_unlock_a_private_copy_by_pushing_its_address(app, api, client):
    anna = api.account("anna")
    anna_laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    sha = _mirrored_copy(app, api, anna_laptop)
    ben = api.account("ben")
    ben_laptop = api.login(ben, "ben-laptop", platform="linux")
    ben_phone = api.login(ben, "ben-phone")
    stolen = {"id": "org.example.stolen", "packages": [{"format": "apk", "url": f"/api/v1/packages/{sha}"}]}

    resp = api.push(ben_laptop, ["ben-phone"], app=stolen, mode="notify")

    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "not_entitled"
    with client.get(f"/api/v1/packages/{sha}", headers=ben_phone) as resp:
        assert resp.status_code == 404  # as for a package the relay does not keep
    assert client.get("/api/v1/pushes?role=sent", headers=ben_laptop).get_json()["pushes"] == []


def test_the_owner_may_send_the_copy_the_relay_kept_for_her_again(app, api, client):
    anna = api.account("anna")
    anna_laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    tablet = api.login(anna, "anna-tablet")
    sha = _mirrored_copy(app, api, anna_laptop)
    again = {"id": "org.example.private", "packages": [{"format": "apk", "url": f"/api/v1/packages/{sha}"}]}

    assert api.push(anna_laptop, ["anna-tablet"], app=again, mode="notify").status_code == 201
    with client.get(f"/api/v1/packages/{sha}", headers=tablet) as resp:
        assert resp.status_code == 200


# ----------------------------------------------------------------- event ids and catch-up


def test_event_ids_never_go_back_after_a_device_is_removed(api, client):
    anna = api.account("anna")
    old_laptop = api.login(anna, "anna-old-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    first = api.push(old_laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]
    seen = _events(client, phone, 0, until=lambda ev: first in _pushes_to(ev))
    phone_cursor = seen[-1]["id"]  # what the phone keeps as its Last-Event-ID
    # The old laptop is removed: its pushes, and the events about them, are deleted.
    assert client.delete("/api/v1/devices/anna-old-laptop", headers=phone).status_code == 204

    new_laptop = api.login(anna, "anna-new-laptop", platform="linux")
    second = api.push(new_laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]

    later = _events(client, phone, phone_cursor, until=lambda ev: second in _pushes_to(ev))
    assert all(e["id"] > phone_cursor for e in later)


def test_a_phone_whose_last_event_id_is_ahead_of_the_relay_still_gets_pushes(api, client):
    """The relay's database was reset or restored; the phone kept its id from before."""
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    waiting = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]
    live = []

    seen = _events(
        client,
        phone,
        10**12,
        until=lambda ev: live and live[0] in _pushes_to(ev),
        on_first_event=lambda: live.append(api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]),
    )

    assert _pushes_to(seen) == [waiting, live[0]]


def test_every_waiting_push_is_sent_on_the_first_connect(api, client):
    from relay_server import events

    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    total = events.BATCH + 25
    sent = [api.push(laptop, ["anna-phone"], mode="notify").get_json()["pushes"][0]["id"] for _ in range(total)]

    seen = _events(client, phone, until=lambda ev: len(_pushes_to(ev)) >= total, timeout=60)

    assert sorted(_pushes_to(seen)) == sorted(sent)


# ----------------------------------------------------------------- HEAD and broken text


def test_head_on_the_stream_leaves_no_ghost_stream(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")

    resp = client.head("/api/v1/stream", headers=phone)

    assert resp.status_code == 200 and resp.data == b""
    devices = {d["id"]: d for d in client.get("/api/v1/devices", headers=laptop).get_json()["devices"]}
    assert devices["anna-phone"]["online"] is False
    assert api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["state"] == "queued"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/accounts", '{"username": "anna\\ud800", "password": "correct horse"}'),
        (
            "/api/v1/login",
            '{"username": "anna", "password": "\\udc00 horse", "device": '
            '{"id": "d1", "name": "Phone", "model": "m", "platform": "android"}}',
        ),
        (
            "/api/v1/login",
            '{"username": "anna", "password": "correct horse", "device": '
            '{"id": "d1", "name": "Ph\\ud83done", "model": "m", "platform": "android"}}',
        ),
    ],
)
def test_a_lone_surrogate_is_a_clear_400(client, path, body):
    resp = client.post(path, data=body, content_type="application/json")

    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_json"
    assert "Unicode" in resp.get_json()["error"]["message"]


def test_a_lone_surrogate_in_a_push_changes_nothing(api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    body = '{"app": {"id": "org.videolan.vlc", "name": "V\\udfffLC"}, "mode": "notify", "device_ids": ["anna-phone"]}'

    resp = client.post("/api/v1/pushes", data=body, content_type="application/json", headers=laptop)

    assert resp.status_code == 400
    assert client.get("/api/v1/pushes?role=sent", headers=laptop).get_json()["pushes"] == []


# ----------------------------------------------------------------- password guessing


@pytest.fixture
def guarded(relay_config):
    config = relay_config.with_(
        rate_limits=True,
        limit_login_failures="5/minute",
        limit_login_failures_per_account="8/hour",
        limit_login_per_address="1000/minute",
    )
    application = create_app(config)
    yield application.test_client()
    close_app(application)


def _login_from(client, address: str, password: str, device: str = "anna-phone"):
    return client.post(
        "/api/v1/login",
        environ_base={"REMOTE_ADDR": address},
        json={
            "username": "anna",
            "password": password,
            "device": {"id": device, "name": device, "model": "m", "platform": "android"},
        },
    )


def test_guesses_from_one_address_do_not_lock_the_owner_out(guarded):
    guarded.post("/api/v1/accounts", json={"username": "anna", "password": "correct horse"})
    answers = [_login_from(guarded, "203.0.113.66", f"guess {i}", device="evil").status_code for i in range(6)]
    assert answers == [401] * 5 + [429]
    assert _login_from(guarded, "203.0.113.66", "correct horse", device="evil").status_code == 429

    assert _login_from(guarded, "198.51.100.7", "correct horse").status_code == 200


def test_guesses_from_many_addresses_still_let_the_owners_own_device_in(guarded):
    guarded.post("/api/v1/accounts", json={"username": "anna", "password": "correct horse"})
    assert _login_from(guarded, "198.51.100.7", "correct horse").status_code == 200  # anna's phone, known
    for i in range(8):  # a botnet: one guess per address, the account's overall limit used up
        assert _login_from(guarded, f"203.0.113.{i}", "guess", device="evil").status_code == 401

    # A new device must wait, whatever its address; the phone already on the account need not.
    assert _login_from(guarded, "198.51.100.8", "correct horse", device="new-tablet").status_code == 429
    assert _login_from(guarded, "198.51.100.7", "correct horse").status_code == 200
