"""The receiver against a real relay process: stream, acknowledgement, reports, replay, restart."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mobile_receiver.service import LAST_EVENT_ID, ReceiverService
from relay_server.demo_catalog import build_package
from tests.helpers.relay_process import relay_with_laptop

from .fakes import fake_platform, wait_until
from .package_server import PackageServer

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse"
FAST = {"backoff_initial": 0.05, "backoff_max": 0.2}


@pytest.fixture
def relay(tmp_path):
    with relay_with_laptop(tmp_path / "relay", "anna", PASSWORD) as process:
        yield process


@pytest.fixture
def services():
    made = []
    yield made
    for service in made:
        service.stop()


def make_service(relay, data_dir, services, metered=False, log_in=True):
    data_dir.mkdir(parents=True, exist_ok=True)
    service = ReceiverService(
        data_dir,
        platform=fake_platform(data_dir, metered=metered),
        download_options=FAST,
        reporter_options={"backoff_initial": 0.05, "backoff_max": 0.5},
        stream_options={"max_backoff": 0.5},
    )
    services.append(service)
    if log_in:
        service.log_in(relay.url, "anna", PASSWORD, "Anna's Pixel")
    service.start()
    wait_until(lambda: service.connection.state == "connected", what="the stream to connect")
    return service


def relay_state(relay, push_id):
    return relay.laptop.get_push(push_id).state


def history(relay, push_id):
    states = [h.state for h in relay.laptop.get_push(push_id).history]
    return [s for i, s in enumerate(states) if not (i and s == states[i - 1] == "downloading")]


def test_install_now_from_catalog_is_installed_and_reported(relay, tmp_path, services):
    phone = make_service(relay, tmp_path / "phone", services)
    push = relay.laptop.push({"id": "org.videolan.vlc"}, "install_now", [phone.profile.device_id])[0]
    wait_until(lambda: relay_state(relay, push.id) == "installed", what="installed at the relay")
    assert (
        history(relay, push.id)
        == ["queued", "sent", "delivered", "downloading", "verifying", "installing", "installed"][
            -len(history(relay, push.id)) :
        ]
    )
    app = phone.platform.installer.installed("org.videolan.vlc")
    assert app.version == relay.laptop.app("org.videolan.vlc").version
    assert phone.db.get_meta(LAST_EVENT_ID) is not None


def test_second_push_of_installed_app_says_already_installed(relay, tmp_path, services):
    phone = make_service(relay, tmp_path / "phone", services)
    first = relay.laptop.push({"id": "org.fdroid.fdroid"}, "install_now", [phone.profile.device_id])[0]
    wait_until(lambda: relay_state(relay, first.id) == "installed")
    again = relay.laptop.push({"id": "org.fdroid.fdroid"}, "install_now", [phone.profile.device_id])[0]
    wait_until(lambda: relay_state(relay, again.id) == "already_installed", what="already_installed")


def test_pushes_sent_while_offline_arrive_after_restart_without_duplicates(relay, tmp_path, services):
    phone = make_service(relay, tmp_path / "phone", services)
    device_id = phone.profile.device_id
    notify = relay.laptop.push({"id": "org.wikipedia"}, "notify", [device_id])[0]
    wait_until(lambda: relay_state(relay, notify.id) == "delivered")
    phone.stop()
    services.remove(phone)
    wait_until(
        lambda: not any(d.id == device_id and d.online for d in relay.laptop.devices()),
        what="the relay to see the phone go",
    )
    # while the phone is off: one more push (the relay queues it with its own copy)
    queued = relay.laptop.push({"id": "org.schabi.newpipe"}, "install_now", [device_id])[0]
    assert queued.state == "queued"
    again = make_service(relay, tmp_path / "phone", services, log_in=False)
    wait_until(lambda: relay_state(relay, queued.id) == "installed", what="the queued push installed")
    ids = [r.push_id for r in again.inbox.records()]
    assert ids == [queued.id, notify.id]  # newest first, each once
    assert again.inbox.get(notify.id).prompt == "download"  # still waiting for the user


def test_sender_cancel_reaches_the_receiver(relay, tmp_path, services):
    body = build_package("apk", "org.example.slow", "Slow", "1.0", 1, size=2_000_000)
    with PackageServer(body, delay=0.02) as srv:
        phone = make_service(relay, tmp_path / "phone", services)
        app = {
            "id": "org.example.slow",
            "name": "Slow",
            "version": "1.0",
            "packages": [
                {
                    "format": "apk",
                    "url": srv.url.replace("/pkg", "/pkg"),
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "size": len(body),
                }
            ],
        }
        push = relay.laptop.push(app, "install_now", [phone.profile.device_id])[0]
        wait_until(lambda: (phone.inbox.get(push.id) or None) is not None and phone.inbox.get(push.id).bytes_done > 0)
        relay.laptop.cancel_push(push.id)
        wait_until(lambda: phone.inbox.get(push.id).state == "cancelled", what="cancelled on the phone")
        wait_until(lambda: not phone.inbox.is_active(push.id))
    assert not list((tmp_path / "phone" / "downloads").glob(f"{push.id}*"))


def test_metered_pause_and_wifi_resume_are_reported_to_the_relay(relay, tmp_path, services):
    body = build_package("apk", "org.example.big", "Big", "2.0", 2, size=1_500_000)
    with PackageServer(body, delay=0.01) as srv:
        phone = make_service(relay, tmp_path / "phone", services)
        app = {
            "id": "org.example.big",
            "name": "Big",
            "version": "2.0",
            "packages": [
                {"format": "apk", "url": srv.url, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            ],
        }
        push = relay.laptop.push(app, "install_now", [phone.profile.device_id])[0]
        wait_until(lambda: phone.inbox.get(push.id) is not None and phone.inbox.get(push.id).bytes_done > 200_000)
        phone.platform.network.set_metered(True)
        wait_until(lambda: relay_state(relay, push.id) == "waiting_for_wifi", what="waiting_for_wifi at the relay")
        srv.delay = 0
        phone.platform.network.set_metered(False)
        wait_until(lambda: relay_state(relay, push.id) == "installed", what="installed at the relay")
    assert "waiting_for_wifi" in history(relay, push.id)
    resumed = [r.get("Range") for r in srv.requests if r.get("Range")]
    assert resumed and int(resumed[-1][6:-1]) > 100_000  # resumed from where it stopped


def test_headless_receiver_process_end_to_end(relay, tmp_path):
    """`appbeam receiver --headless` logs in from flags, installs, and obeys --set-network from outside."""
    data_dir = tmp_path / "phone-proc"
    body = build_package("apk", "org.example.proc", "Proc", "1.0", 1, size=3_000_000)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "appbeam_devtools.cli",
        "receiver",
        "--data-dir",
        str(data_dir),
        "--relay",
        relay.url,
        "--username",
        "anna",
        "--password",
        PASSWORD,
        "--device-name",
        "Proc phone",
        "--model",
        "Pixel 8",
        "--platform",
        "android",
        "--unmetered",
        "--headless",
    ]
    log = open(tmp_path / "receiver.log", "wb")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until(
            lambda: any(d.name == "Proc phone" and d.online for d in relay.laptop.devices()),
            timeout=30,
            what="the receiver process to come online",
        )
        device_id = next(d.id for d in relay.laptop.devices() if d.name == "Proc phone")
        with PackageServer(body, delay=0.01) as srv:
            app = {
                "id": "org.example.proc",
                "name": "Proc",
                "version": "1.0",
                "packages": [
                    {"format": "apk", "url": srv.url, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
                ],
            }
            push = relay.laptop.push(app, "install_now", [device_id])[0]
            wait_until(lambda: relay_state(relay, push.id) == "downloading", what="downloading")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "appbeam_devtools.cli",
                    "receiver",
                    "--data-dir",
                    str(data_dir),
                    "--set-network",
                    "metered",
                ],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            wait_until(lambda: relay_state(relay, push.id) == "waiting_for_wifi", what="paused on metered")
            srv.delay = 0
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "appbeam_devtools",
                    "receiver",
                    "--data-dir",
                    str(data_dir),
                    "--set-network",
                    "wifi",
                ],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            wait_until(lambda: relay_state(relay, push.id) == "installed", timeout=30, what="installed")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == 0, (tmp_path / "receiver.log").read_text()
    assert '"org.example.proc"' in (data_dir / "installed.json").read_text()


def test_a_phone_used_with_another_account_before_joins_this_one_under_a_new_id(relay, tmp_path):
    """Its old id belongs to the other account: the relay refuses it without saying whose, and
    the phone logs in as a new device of this account by itself."""
    from mobile_receiver.profile import ProfileStore, log_in
    from shared.relay_client import RelayClient

    store = ProfileStore(tmp_path / "phone")
    profile = store.load()
    old_id = profile.device_id
    RelayClient(relay.url).create_account("ben", PASSWORD)
    log_in(store, profile, relay.url, "ben", PASSWORD)  # Ben used this phone first

    profile = log_in(store, store.load(), relay.url, "anna", PASSWORD)

    assert profile.device_id != old_id and store.load().device_id == profile.device_id
    anna_devices = [d.id for d in relay.laptop.devices()]
    assert profile.device_id in anna_devices and old_id not in anna_devices
