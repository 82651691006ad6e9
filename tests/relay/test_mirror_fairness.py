"""One account's slow package server cannot stall another account's offline pushes (issue #11).

The mirror copies packages with a small pool of workers, at most ``mirror_per_account``
copies per sending account at once, and gives up on a copy slower than ``mirror_min_rate``.
The packages come from real HTTP servers on 127.0.0.1: one trickling about 1 KB/s (an
abusive account's), one answering at once (an ordinary account's).
"""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from relay_server.app import close_app, create_app
from relay_server.mirror import _FairQueue
from tests.helpers.polling import wait_for
from tests.helpers.relay_api import Api, mirror_statuses
from tests.helpers.servers import FileServer, ThrottledFileServer

SLOW_BODY = hashlib.sha256(b"trickle").digest() * 8192  # 256 KiB: over four minutes at 1 KB/s
FAST_BODY = hashlib.sha256(b"ordinary").digest() * 2048  # 64 KiB


@pytest.fixture
def servers(tmp_path):
    """(trickling server, ordinary server), each serving its package as ``/app.apk``."""
    slow_root, fast_root = tmp_path / "slow", tmp_path / "fast"
    slow_root.mkdir()
    fast_root.mkdir()
    (slow_root / "app.apk").write_bytes(SLOW_BODY)
    (fast_root / "app.apk").write_bytes(FAST_BODY)
    with ThrottledFileServer(slow_root, bytes_per_second=1024) as slow, FileServer(fast_root) as fast:
        yield slow, fast


@pytest.fixture
def make_relay(relay_config):
    """``make_relay(**config)``: a relay that may mirror loopback servers; closed afterwards."""
    made = []

    def make(**changes):
        config = relay_config.with_(mirror_allow_private=True, **changes)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        application = create_app(config)
        application.config["TESTING"] = True
        made.append(application)
        return application

    yield make
    for application in made:
        close_app(application)


def _sender_and_offline_phone(api: Api, username: str) -> tuple[dict, dict]:
    api.account(username)
    laptop = api.login(username, f"{username}-laptop", platform="linux")
    phone = api.login(username, f"{username}-phone")  # registered, but no stream: offline
    return laptop, phone


def _push_package(api: Api, laptop: dict, username: str, url: str, body: bytes) -> str:
    resp = api.push(
        laptop,
        [f"{username}-phone"],
        app={
            "id": "com.example.app",
            "packages": [{"format": "apk", "url": url, "sha256": hashlib.sha256(body).hexdigest()}],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["pushes"][0]["id"]


def test_ordinary_accounts_push_is_mirrored_and_delivered_while_another_account_trickles(make_relay, servers):
    """Mallory pushes six packages from a server sending 1 KB/s (no minimum speed here, so
    they trickle for minutes); Anna's push right after still gets the relay's copy at once,
    and Mallory never has more than two copies going."""
    slow, fast = servers
    application = make_relay(mirror_workers=4, mirror_per_account=2, mirror_min_rate=0)
    api = Api(application.test_client())
    mallory_laptop, _ = _sender_and_offline_phone(api, "mallory")
    anna_laptop, anna_phone = _sender_and_offline_phone(api, "anna")

    abusive = [_push_package(api, mallory_laptop, "mallory", f"{slow.url}/app.apk", SLOW_BODY) for _ in range(6)]
    wait_for(lambda: slow.range_log, 10, "the trickling server to be asked for Mallory's package")
    ordinary = _push_package(api, anna_laptop, "anna", f"{fast.url}/app.apk", FAST_BODY)

    wait_for(lambda: mirror_statuses([ordinary])[ordinary] != "pending", 10, "the relay's copy of Anna's package")
    message = api.first_push_message(anna_phone)
    assert message["push_id"] == ordinary
    assert message["package"]["url"].endswith(f"/api/v1/packages/{hashlib.sha256(FAST_BODY).hexdigest()}")
    assert mirror_statuses(abusive) == {push_id: "pending" for push_id in abusive}, (
        "Mallory's copies are still trickling"
    )
    assert len(slow.range_log) <= 2, "one account has at most mirror_per_account copies going"


def test_copy_below_the_minimum_speed_is_abandoned_and_the_push_goes_out_with_its_url(make_relay, servers):
    """A copy averaging about 1 KB/s, below the 4 KB/s minimum, is given up after its window:
    the push is delivered with the original URL and says, in words, why there is no copy."""
    slow, _ = servers
    application = make_relay(mirror_min_rate=4096, mirror_rate_window=1.0)
    client = application.test_client()
    api = Api(client)
    laptop, phone = _sender_and_offline_phone(api, "mallory")
    url = f"{slow.url}/app.apk"
    started = time.monotonic()

    push_id = _push_package(api, laptop, "mallory", url, SLOW_BODY)

    wait_for(lambda: mirror_statuses([push_id])[push_id] != "pending", 15, "the slow copy to be given up")
    assert time.monotonic() - started < 60, "given up long before the package could have trickled in"
    shown = client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()
    assert shown["mirrored"] is False
    assert shown["package"]["url"] == url
    assert shown["detail"].startswith("the relay could not keep a copy (the package server was too slow: ")
    assert "the relay gives up below 4,096 bytes/s" in shown["detail"]
    assert shown["detail"].endswith("the device will fetch the original")
    assert api.first_push_message(phone)["package"]["url"] == url
    assert mirror_statuses([push_id]) == {push_id: "failed"}


def test_waiting_copies_go_to_the_account_with_the_fewest_copies_going_round_robin():
    """The order workers take copies in: an account's backlog never goes before an account
    that has nothing going, and an account at its limit waits."""
    queue = _FairQueue(per_account=2)
    stopping = threading.Event()
    for push_id in ("m1", "m2", "m3", "m4"):
        queue.put("mallory", push_id)
    queue.put("anna", "a1")
    queue.put("ben", "b1")
    assert not queue.put("mallory", "m1"), "a push already waiting is not queued twice"

    taken = [queue.take(stopping) for _ in range(4)]

    assert taken == [("mallory", "m1"), ("anna", "a1"), ("ben", "b1"), ("mallory", "m2")]
    queue.put("anna", "a2")
    assert queue.take(stopping) == ("anna", "a2"), "mallory has two copies going: anna goes first"
    queue.done("mallory", "m1")
    assert queue.take(stopping) == ("mallory", "m3")
    assert not queue.wait_idle(0.01)
    stopping.set()
    assert queue.take(stopping) is None
