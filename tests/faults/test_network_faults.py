"""Network faults between a receiver and the relay, through a TCP proxy the test controls.

- The relay stops (SIGTERM or SIGKILL) while a real receiver process is connected: the
  receiver says ``reconnecting``, keeps every push card and its installed apps, backs off
  (a handful of connection attempts, not a tight loop), keeps downloading from the
  outside store and keeps the user's taps; when the relay is back it catches up: a push
  created while the receiver was away arrives and installs, and the reports made while
  the relay was down reach it later, in order (``GET /pushes/<id>`` history).
- Connections reset mid-stream (RST on every open connection, several times): the
  receiver reconnects each time and every later push arrives and installs.
- A relay that stops answering (bytes stop flowing on open connections, new ones are
  accepted but never answered): an in-process receiver service with a short read timeout
  notices, reconnects with backoff, and gets the push created during the stall once the
  relay answers again. (The shipped receiver waits ``read_timeout`` 45 s, three relay
  keepalives of 15 s, before it gives up on a silent stream; the same code runs here
  with 2 s so the test stays short.)
"""

from __future__ import annotations

import hashlib
import json
import random
import time

import pytest

from relay_server.demo_catalog import build_package
from shared.relay_client import DeviceInfo, RelayClient
from tests.faults.conftest import wait_until
from tests.helpers.servers import ThrottledFileServer

pytestmark = pytest.mark.e2e

PASSWORD = "network fault password"
SLOW_SIZE = 1536 * 1024
SLOW_RATE = 384 * 1024  # four seconds: the download goes on while the relay is away


@pytest.fixture
def world(tmp_path, relays, proxies):
    relay = relays(tmp_path / "relay")
    proxy = proxies(relay.port)
    laptop = RelayClient(relay.url)  # the sender talks to the relay directly
    laptop.create_account("nora", PASSWORD)
    laptop.login("nora", PASSWORD, DeviceInfo("nora-laptop", "Nora's laptop", "ThinkPad", "linux"))
    catalog = [a.id for a in laptop.apps() if any(p.format == "apk" for p in a.packages)]
    assert len(catalog) >= 4, catalog
    return relay, proxy, laptop, catalog


def _phone(receivers, tmp_path, proxy):
    return receivers(
        tmp_path / "phone", proxy.url, "nora", PASSWORD, name="Nora's Pixel", model="Pixel 8", platform="android"
    )


def _device_id(phone) -> str:
    return json.loads((phone.data_dir / "profile.json").read_text())["device_id"]


def _card(state: dict, push_id: str) -> dict | None:
    return next((p for p in state["pushes"] if p["push_id"] == push_id), None)


def _history(laptop, push_id: str) -> list[str]:
    return [h.state for h in laptop.get_push(push_id).history]


def _dedupe_progress(states: list[str]) -> list[str]:
    return [s for i, s in enumerate(states) if not (i and s == states[i - 1] == "downloading")]


def _installed_at_relay(laptop, push_id: str, timeout: float = 40) -> None:
    wait_until(lambda: laptop.get_push(push_id).state == "installed", timeout, f"push {push_id} installed")


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_relay_goes_away_and_comes_back(tmp_path, world, receivers, seed, how):
    relay, proxy, laptop, catalog = world
    rng = random.Random(seed)
    store = tmp_path / "store"
    store.mkdir()
    body = build_package("apk", "org.example.slow", "Slow", "1.0", 1, size=SLOW_SIZE, seed=rng.randbytes(32))
    (store / "slow.apk").write_bytes(body)
    body_sha = hashlib.sha256(body).hexdigest()
    phone = _phone(receivers, tmp_path, proxy)
    phone_id = _device_id(phone)

    with ThrottledFileServer(store, bytes_per_second=SLOW_RATE) as slow:
        # Before the outage: a notice waiting for a tap, and a download from an outside store.
        (notice,) = laptop.push({"id": catalog[0]}, "notify", [phone_id])
        (download,) = laptop.push(
            {
                "id": "org.example.slow",
                "name": "Slow",
                "version": "1.0",
                "packages": [{"format": "apk", "url": f"{slow.url}/slow.apk", "sha256": body_sha, "size": SLOW_SIZE}],
            },
            "install_now",
            [phone_id],
        )
        phone.wait_for(
            lambda s: (
                (c := _card(s, download.id)) is not None and c["state"] == "downloading" and (c["bytes_done"] or 0) > 0
            ),
            20,
            "the download to start",
        )
        wait_until(lambda: laptop.get_push(notice.id).state == "delivered", 20, "the notice acknowledged")
        wait_until(lambda: laptop.get_push(download.id).state == "downloading", 20, "progress at the relay")
        before = phone.state()

        # The relay goes away.
        relay.stop() if how == "sigterm" else relay.kill()
        away_since = time.monotonic()
        state = phone.wait_for(lambda s: s["connection"] == "reconnecting", 15, "the receiver to say reconnecting")
        assert {p["push_id"] for p in state["pushes"]} == {p["push_id"] for p in before["pushes"]}
        # The user acts while the relay is away; the download goes on from the outside store.
        phone.tap(notice.id, "dismiss")
        state = phone.wait_for(
            lambda s: _card(s, download.id)["state"] == "installed",
            30,
            "the download to install while the relay is away",
        )
        assert _card(state, notice.id)["state"] == "declined"
        assert state["connection"] in ("reconnecting", "connecting", "offline"), state["connection"]
        assert any(a["app_id"] == "org.example.slow" and a["sha256"] == body_sha for a in state["installed"])

    # Backoff: while the relay is away the receiver tries again now and then, not in a loop.
    time.sleep(max(0.0, 4.0 - (time.monotonic() - away_since)))
    away_for = time.monotonic() - away_since
    attempts = proxy.connections_since(away_since)
    assert 1 <= attempts <= 4 * away_for + 6, f"{attempts} connections in {away_for:.1f}s: no backoff"

    # Back, but still unreachable for the phone: a push created while it is away is queued.
    proxy.set_mode("refuse")
    relay.start()
    (missed,) = laptop.push({"id": catalog[1]}, "install_now", [phone_id])
    assert missed.state == "queued", missed
    assert phone.state()["connection"] != "connected"
    proxy.set_mode("forward")

    phone.wait_for(lambda s: s["connection"] == "connected", 45, "the receiver to reconnect")
    state = phone.wait_for(
        lambda s: (c := _card(s, missed.id)) is not None and c["state"] == "installed",
        40,
        "the push made while it was away",
    )
    assert {p["push_id"] for p in before["pushes"]} <= {p["push_id"] for p in state["pushes"]}
    _installed_at_relay(laptop, missed.id)

    # The reports made while the relay was down arrived, in the order they were made.
    wait_until(lambda: laptop.get_push(download.id).state == "installed", 30, "the offline reports")
    assert _history(laptop, notice.id)[-2:] == ["delivered", "declined"], _history(laptop, notice.id)
    history = _dedupe_progress(_history(laptop, download.id))
    assert history == ["sent", "delivered", "downloading", "verifying", "installing", "installed"], history


def test_connections_reset_mid_stream(tmp_path, world, receivers):
    relay, proxy, laptop, catalog = world
    phone = _phone(receivers, tmp_path, proxy)
    phone_id = _device_id(phone)
    for round_no, app_id in enumerate(catalog[:3]):
        since = time.monotonic()
        assert proxy.reset_all() >= 1, "the receiver holds no connection to reset"
        (push,) = laptop.push({"id": app_id}, "install_now", [phone_id])
        phone.wait_for(
            lambda s: (c := _card(s, push.id)) is not None and c["state"] == "installed",
            40,
            f"push {round_no} after a reset",
        )
        _installed_at_relay(laptop, push.id)
        assert proxy.connections_since(since) >= 1, "the receiver never reconnected"
        history = _dedupe_progress(_history(laptop, push.id))
        assert history[-5:] == ["delivered", "downloading", "verifying", "installing", "installed"], history
    state = phone.wait_for(lambda s: s["connection"] == "connected", 20, "connected at the end")
    assert len([a for a in state["installed"] if a["app_id"] in catalog[:3]]) == 3


def test_a_relay_that_stops_answering(tmp_path, world):
    from mobile_receiver.service import ReceiverService
    from tests.receiver.fakes import fake_platform

    relay, proxy, laptop, catalog = world
    data_dir = tmp_path / "phone"
    data_dir.mkdir()
    service = ReceiverService(
        data_dir,
        platform=fake_platform(data_dir),
        stream_options={"read_timeout": 2.0, "max_backoff": 1.0},
        reporter_options={"backoff_initial": 0.1, "backoff_max": 1.0},
        download_options={"backoff_initial": 0.1, "backoff_max": 0.5},
    )
    states: list[str] = []
    service.on_connection(lambda c: states.append(c.state))
    try:
        service.log_in(proxy.url, "nora", PASSWORD, "Nora's Pixel")
        service.start()
        wait_until(lambda: service.connection.state == "connected", 15, "connected")
        phone_id = service.profile.device_id
        (first,) = laptop.push({"id": catalog[0]}, "install_now", [phone_id])
        _installed_at_relay(laptop, first.id)

        # The relay stops answering: open connections go silent, new ones hang.
        proxy.set_mode("stall")
        proxy.stall_existing()
        stalled_at = len(states)
        wait_until(lambda: "reconnecting" in states[stalled_at:], 10, "the receiver to notice the silence")
        (during,) = laptop.push({"id": catalog[1]}, "install_now", [phone_id])
        time.sleep(3)  # at least one more attempt runs into the stall
        assert service.inbox.get(during.id) is None
        assert service.connection.state != "connected"

        proxy.set_mode("forward")
        wait_until(lambda: service.connection.state == "connected", 20, "the receiver to reconnect")
        wait_until(
            lambda: (r := service.inbox.get(during.id)) is not None and r.state == "installed",
            30,
            "the push made during the stall",
        )
        _installed_at_relay(laptop, during.id)
        (after,) = laptop.push({"id": catalog[2]}, "install_now", [phone_id])
        _installed_at_relay(laptop, after.id)
    finally:
        service.stop()
