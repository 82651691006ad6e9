"""``appbeam relay --processes 2``: two relay processes on one port (SO_REUSEPORT) and one
database. Streams land on both; a push accepted by either process reaches every device at
once and says "sent" (presence crosses processes), on SQLite through HostCluster's local
sockets, on PostgreSQL through its NOTIFY cluster."""

from __future__ import annotations

import sqlite3

import pytest

from shared.relay_client import DeviceInfo, RelayClient
from tests.helpers.relay_process import RelayProcess
from tests.helpers.streams import StreamReader

PHONES = 16  # streams spread by the kernel: all on one process has odds of 2 ** -15


@pytest.fixture
def relay(tmp_path):
    import psutil

    with RelayProcess(tmp_path / "relay", extra_args=["--processes", "2"], keepalive=30.0) as process:
        workers = psutil.Process(process.proc.pid).children()
        yield process
    # Stopping while streams are open leaves no process behind (on PostgreSQL, closing the
    # pool under a running query once hung a worker for good).
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, [p.pid for p in alive]


def _login(url: str, device_id: str, platform: str) -> RelayClient:
    client = RelayClient(url)
    client.login("anna", "correct horse", DeviceInfo(device_id, device_id, "Model", platform))
    return client


def test_pushes_reach_streams_held_by_either_process_at_once(relay):
    RelayClient(relay.url).create_account("anna", "correct horse")
    laptop = _login(relay.url, "anna-laptop", "linux")
    phones = {f"phone-{i}": _login(relay.url, f"phone-{i}", "android") for i in range(PHONES)}
    readers = {name: StreamReader(client).__enter__() for name, client in phones.items()}
    try:
        if not relay.database_url:
            # Both processes hold streams (presence rows of two relay instances).
            db = sqlite3.connect(relay.data_dir / "relay.db")
            try:
                instances = db.execute("SELECT COUNT(DISTINCT instance_id) FROM presence").fetchone()[0]
            finally:
                db.close()
            assert instances == 2
        pushed = {}
        for name in phones:  # each POST may land on either process
            (push,) = laptop.push({"id": "org.videolan.vlc"}, "install_now", [name])
            assert push.state == "sent", push  # the accepting process knows the phone is online
            pushed[name] = push.id
        for name, reader in readers.items():
            # keepalive is 30 s: only a wake-up across processes delivers within this wait
            assert reader.next("push", timeout=10).data["push_id"] == pushed[name]
    finally:
        for reader in readers.values():
            reader.__exit__(None, None, None)


def test_a_stopped_relay_leaves_no_process_behind(tmp_path):
    relay = RelayProcess(tmp_path / "relay", extra_args=["--processes", "2"]).start()
    import psutil

    children = psutil.Process(relay.proc.pid).children()
    assert len(children) == 2
    relay.stop()
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive
