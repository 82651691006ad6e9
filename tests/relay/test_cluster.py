"""Two relay processes on one PostgreSQL database: a push accepted by one reaches a device
connected to the other, at once and after reconnecting to either."""

from __future__ import annotations

import time

import pytest

from shared.relay_client import DeviceInfo, RelayClient
from tests.helpers.database import test_database_url
from tests.helpers.relay_process import RelayProcess
from tests.helpers.streams import StreamReader

pytestmark = pytest.mark.skipif(
    not test_database_url(), reason="needs PostgreSQL: run it through tests/with_postgres.sh (make test does)"
)


@pytest.fixture
def two_relays(tmp_path):
    first = RelayProcess(tmp_path / "relay-a").start()
    second = RelayProcess(tmp_path / "relay-b", fresh_database=False).start()
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()


def _login(url: str, device_id: str, platform: str) -> RelayClient:
    client = RelayClient(url)
    client.login("anna", "correct horse", DeviceInfo(device_id, device_id, "Model", platform))
    return client


def test_push_accepted_by_one_process_reaches_a_stream_on_the_other(two_relays):
    relay_a, relay_b = two_relays
    RelayClient(relay_a.url).create_account("anna", "correct horse")
    phone = _login(relay_a.url, "anna-phone", "android")
    laptop = _login(relay_b.url, "anna-laptop", "linux")

    with StreamReader(phone) as phone_events:
        # Presence crosses processes: relay B knows the phone is online on relay A.
        assert [d.online for d in laptop.devices()] == [True]
        started = time.monotonic()
        push = laptop.push({"id": "org.videolan.vlc"}, "install_now", ["anna-phone"])[0]
        assert push.state == "sent"
        event = phone_events.next("push", timeout=5)
        latency = time.monotonic() - started
    assert event.data["push_id"] == push.id
    assert latency < 2.0, f"cross-process delivery took {latency:.2f}s"

    with StreamReader(laptop) as laptop_events:  # the sender hears the phone's report via relay B
        phone.report(push.id, "delivered")
        assert laptop_events.next("push_update", timeout=5).data["state"] == "delivered"


def test_queued_push_replays_through_the_other_process(two_relays):
    relay_a, relay_b = two_relays
    RelayClient(relay_a.url).create_account("anna", "correct horse")
    laptop = _login(relay_a.url, "anna-laptop", "linux")
    _login(relay_a.url, "anna-phone", "android")
    push = laptop.push({"id": "org.fdroid.fdroid"}, "notify", ["anna-phone"])[0]
    assert push.state == "queued"
    relay_a.kill()  # the process that accepted it is gone

    phone_on_b = _login(relay_b.url, "anna-phone", "android")
    with StreamReader(phone_on_b) as events:
        assert events.next("push", timeout=10).data["push_id"] == push.id


def test_a_killed_process_stops_counting_its_devices_as_online(two_relays):
    relay_a, relay_b = two_relays
    RelayClient(relay_a.url).create_account("anna", "correct horse")
    phone = _login(relay_a.url, "anna-phone", "android")
    laptop = _login(relay_b.url, "anna-laptop", "linux")
    reader = StreamReader(phone).__enter__()
    try:
        assert laptop.devices()[0].online is True
        relay_a.kill()
        deadline = time.monotonic() + 30
        while laptop.devices()[0].online and time.monotonic() < deadline:
            time.sleep(0.5)
        assert laptop.devices()[0].online is False
    finally:
        reader.stream.close()
