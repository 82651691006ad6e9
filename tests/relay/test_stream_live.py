"""Store-and-forward through a real relay process: streams, mirror, replay, crash safety."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from tests.helpers.relay_process import RelayProcess, anna_with_laptop_and_phone
from tests.helpers.servers import FileServer
from tests.helpers.streams import StreamReader


@pytest.fixture
def relay(tmp_path):
    with RelayProcess(tmp_path / "relay") as process:
        yield process


def _outside_app(server_url: str, sha: str, size: int) -> dict:
    return {
        "id": "org.example.notes",
        "name": "Notes",
        "version": "1.0",
        "packages": [{"format": "apk", "url": f"{server_url}/notes.apk", "sha256": sha, "size": size}],
    }


@pytest.fixture
def outside_package(tmp_path):
    """An apk on another web server (loopback), as a third-party store would have it."""
    root = tmp_path / "outside"
    root.mkdir()
    data = os.urandom(300_000)
    (root / "notes.apk").write_bytes(data)
    with FileServer(root) as server:
        yield server, data


def test_online_device_gets_push_at_once_with_original_url(relay, outside_package):
    server, data = outside_package
    laptop, phone = anna_with_laptop_and_phone(relay.url)
    with StreamReader(phone) as phone_events:
        phone_events.drain(0.3)  # connected
        pushes = laptop.push(
            _outside_app(server.url, hashlib.sha256(data).hexdigest(), len(data)), "install_now", ["anna-phone"]
        )
        assert pushes[0].state == "sent"
        event = phone_events.next("push")
    assert event.data["push_id"] == pushes[0].id
    assert event.data["mode"] == "install_now"
    assert event.data["package"]["url"] == f"{server.url}/notes.apk"
    assert event.data["sender"] == {"username": "anna", "device_id": "anna-laptop", "device_name": "Laptop"}


def test_offline_device_gets_relay_copy_when_it_connects(relay, outside_package):
    server, data = outside_package
    sha = hashlib.sha256(data).hexdigest()
    laptop, phone = anna_with_laptop_and_phone(relay.url)
    with StreamReader(laptop) as laptop_events:
        laptop_events.drain(0.3)
        push = laptop.push(_outside_app(server.url, sha, len(data)), "notify", ["anna-phone"])[0]
        assert push.state == "queued"
        assert laptop_events.next("push_update").data["state"] == "queued"

        with StreamReader(phone) as phone_events:
            event = phone_events.next("push")
        assert event.data["push_id"] == push.id
        url = event.data["package"]["url"]
        assert url == f"{relay.url}/api/v1/packages/{sha}"
        assert laptop_events.next("push_update").data["state"] == "sent"

        # The device downloads the relay's copy with its token: the same bytes.
        body = requests.get(url, headers={"Authorization": f"Bearer {phone.token}"}, timeout=10).content
        assert body == data
        phone.report(push.id, "delivered")
        assert laptop_events.next("push_update").data["state"] == "delivered"
    assert laptop.get_push(push.id).mirrored is True


def test_unacknowledged_push_is_replayed_and_acknowledged_is_not(relay):
    laptop, phone = anna_with_laptop_and_phone(relay.url)
    first, second = (
        laptop.push({"id": app}, "notify", ["anna-phone"])[0] for app in ("org.videolan.vlc", "org.fdroid.fdroid")
    )
    with StreamReader(phone) as events:
        got = {events.next("push").data["push_id"], events.next("push").data["push_id"]}
    assert got == {first.id, second.id}
    phone.report(first.id, "delivered")

    with StreamReader(phone) as events:
        again = events.next("push")
        assert again.data["push_id"] == second.id  # not acknowledged: at least once
        assert [e for e in events.drain(0.5) if e.event == "push"] == []


def test_reconnect_with_last_event_id_gets_only_what_was_missed(relay):
    laptop, phone = anna_with_laptop_and_phone(relay.url)
    with StreamReader(phone) as events:
        events.drain(0.3)
        first = laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])[0]
        seen = events.next("push")
        phone.report(first.id, "delivered")
    missed = laptop.push({"id": "org.fdroid.fdroid"}, "notify", ["anna-phone"])[0]

    with StreamReader(phone, last_event_id=seen.id) as events:
        replayed = events.next("push")
        assert replayed.data["push_id"] == missed.id
        assert replayed.id > seen.id
        assert [e for e in events.drain(0.5) if e.event == "push"] == []


def test_sender_cancel_reaches_the_device(relay):
    laptop, phone = anna_with_laptop_and_phone(relay.url)
    with StreamReader(phone) as events:
        events.drain(0.3)
        push = laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])[0]
        events.next("push")
        laptop.cancel_push(push.id)
        cancelled = events.next("push_cancelled")
    assert cancelled.data == {"push_id": push.id}


def test_logout_closes_the_stream_and_the_token(relay):
    laptop, phone = anna_with_laptop_and_phone(relay.url)
    statuses = []
    stream = phone.stream(on_status=lambda s: statuses.append(s.state), read_timeout=10)
    events = iter(stream)
    token = phone.token
    phone.logout()
    phone.token = token  # the stream keeps using the revoked token
    with pytest.raises(Exception) as raised:
        for _ in events:
            pass
    assert getattr(raised.value, "status", None) == 401


def test_sigkill_after_201_loses_no_push(relay, outside_package):
    """Pushes acknowledged with 201 survive a crash, including ones whose mirror had not run."""
    server, data = outside_package
    sha = hashlib.sha256(data).hexdigest()
    laptop, phone = anna_with_laptop_and_phone(relay.url)
    created = [
        laptop.push({"id": app}, "notify", ["anna-phone"])[0].id
        for app in ("org.videolan.vlc", "org.fdroid.fdroid", "com.termux")
    ]
    created.append(laptop.push(_outside_app(server.url, sha, len(data)), "notify", ["anna-phone"])[0].id)
    relay.kill()
    relay.start()

    received = set()
    with StreamReader(phone) as events:
        while received != set(created):
            received.add(events.next("push", timeout=15).data["push_id"])
    mirrored = laptop.get_push(created[-1])
    assert mirrored.mirrored is True and mirrored.package.sha256 == sha


def test_password_change_closes_the_other_devices_streams(relay):
    import threading

    laptop, phone = anna_with_laptop_and_phone(relay.url)
    statuses, errors = [], []
    connected, ended = threading.Event(), threading.Event()

    def on_status(status):
        statuses.append(status.state)
        if status.state == "connected":
            connected.set()

    def read():
        try:
            for _ in phone.stream(read_timeout=10, on_status=on_status):
                pass
        except Exception as exc:  # the relay refuses the old token when the stream reconnects
            errors.append(exc)
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    assert connected.wait(10)
    laptop.change_password("correct horse", "battery staple")

    assert ended.wait(10), "the phone's stream stayed open"
    assert [getattr(e, "status", None) for e in errors] == [401]
    assert statuses[-1] == "closed"
    assert laptop.me().device.id == "anna-laptop"  # the caller keeps working with its new token


def test_mirror_refuses_beyond_the_senders_quota_and_still_delivers(tmp_path, outside_package):
    """A sender over their storage quota: the push still goes out, with the original URL."""
    server, data = outside_package
    with RelayProcess(tmp_path / "quota-relay", env={"APPBEAM_MIRROR_QUOTA_BYTES": "1000"}) as small:
        laptop, phone = anna_with_laptop_and_phone(small.url)
        push = laptop.push(
            _outside_app(server.url, hashlib.sha256(data).hexdigest(), len(data)), "notify", ["anna-phone"]
        )[0]
        with StreamReader(phone) as events:
            event = events.next("push")
        assert event.data["package"]["url"] == f"{server.url}/notes.apk"
        shown = laptop.get_push(push.id)
        assert shown.mirrored is False and "relay could not keep a copy" in shown.detail


def test_streams_that_connected_together_do_not_keep_their_keepalives_in_step():
    """A thousand phones back on the network at once must not send (and, in a cluster, poll)
    in one burst every interval: each wait is drawn anew, never longer than the interval."""
    from relay_server.api.stream import _keepalive_wait

    waits = [_keepalive_wait(15.0) for _ in range(500)]
    assert all(11.25 <= w <= 15.0 for w in waits)
    assert max(waits) - min(waits) > 3.0  # spread over most of the allowed range
