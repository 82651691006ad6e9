"""The whole product, proved end to end: real processes, real HTTP, no mocks between parts.

The relay and two receivers ("Alex's Pixel", Android; "Alex's iPad", iOS) run as separate
processes; the desktop sender runs its real window here under pytest-qt. The receivers are
driven through their automation socket, as a person tapping the phone would.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest

from relay_server.demo_catalog import build_package
from shared.messages import Push
from shared.relay_client import RelayClient
from tests.helpers.receiver_process import ReceiverProcess
from tests.helpers.relay_process import RelayProcess
from tests.helpers.servers import FileServer, ThrottledFileServer
from tests.sender.sender_helpers import WAIT_MS, SenderHarness

pytestmark = pytest.mark.e2e

PASSWORD = "appbeam e2e password"
BIG_APK = 3 * 1024 * 1024  # served at 1 MB/s, and held at 2 MB until the test has switched the network


# --------------------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Relay, account, phone and tablet receivers, and a slow third-party store."""
    root = tmp_path_factory.mktemp("e2e")
    relay = RelayProcess(root / "relay", demo_scale=0.02).start()
    receivers, servers = [], []
    try:
        RelayClient(relay.url).create_account("alex", PASSWORD)
        phone = ReceiverProcess(
            root / "phone", relay.url, "alex", PASSWORD, name="Alex's Pixel", model="Pixel 8", platform="android"
        ).start()
        receivers.append(phone)
        tablet = ReceiverProcess(
            root / "tablet", relay.url, "alex", PASSWORD, name="Alex's iPad", model="iPad Air", platform="ios"
        ).start()
        receivers.append(tablet)
        site = _third_party_store(root / "site", relay)
        servers.extend([site["page"], site["slow"]])
        yield {"relay": relay, "phone": phone, "tablet": tablet, **site}
    finally:
        for receiver in receivers:
            receiver.stop()
        for server in servers:
            server.__exit__(None, None, None)
        relay.stop()


def _third_party_store(root: Path, relay: RelayProcess) -> dict:
    """Another web site: a page with JSON-LD for a big apk (served slowly) and an ipa."""
    pages, files = root / "pages", root / "files"
    pages.mkdir(parents=True)
    files.mkdir()
    big = build_package("apk", "org.example.bignotes", "Big Notes", "2.0", 20, size=BIG_APK)  # a real apk
    assert len(big) == BIG_APK
    (files / "big-notes-2.0.apk").write_bytes(big)
    ipa = next((relay.data_dir / "demo-packages").glob("org.videolan.vlc-*.ipa"))
    shutil.copy(ipa, files / "vlc-ios-3.6.0.ipa")
    slow = ThrottledFileServer(files, bytes_per_second=1024 * 1024).__enter__()
    page = FileServer(pages).__enter__()
    apps = {
        "big": {
            "@context": "https://schema.org",
            "@type": "SoftwareApplication",
            "identifier": "org.example.bignotes",
            "name": "Big Notes",
            "softwareVersion": "2.0",
            "operatingSystem": "Android 8.0+",
            "fileSize": str(BIG_APK),
            "downloadUrl": [f"{slow.url}/big-notes-2.0.apk"],
            "appbeam:packages": [
                {
                    "format": "apk",
                    "url": f"{slow.url}/big-notes-2.0.apk",
                    "sha256": hashlib.sha256(big).hexdigest(),
                    "size": BIG_APK,
                }
            ],
        },
        "ipa": {
            "@context": "https://schema.org",
            "@type": "SoftwareApplication",
            "identifier": "org.videolan.vlc-ios",
            "name": "VLC for iOS",
            "softwareVersion": "3.6.0",
            "operatingSystem": "iOS 12+",
            "downloadUrl": [f"{slow.url}/vlc-ios-3.6.0.ipa"],
        },
    }
    body = "".join(
        f'<script type="application/ld+json">{json.dumps(app)}</script>'
        f'<p><a id="{key}" href="{app["downloadUrl"][0]}">Download {app["name"]}</a></p>'
        for key, app in apps.items()
    )
    (pages / "index.html").write_text(f"<!doctype html><title>Elsewhere</title><body>{body}</body>")
    return {
        "page": page,
        "slow": slow,
        "big_sha256": hashlib.sha256(big).hexdigest(),
        "ipa_sha256": hashlib.sha256(ipa.read_bytes()).hexdigest(),
    }


@pytest.fixture
def sender(qtbot, world, tmp_path):
    harness = SenderHarness(qtbot, tmp_path / "sender", world["relay"].url, "alex", PASSWORD)
    harness.start()
    # The phones were set up before this laptop: their user trusts its new key in Settings.
    for phone in (world["phone"], world["tablet"]):
        phone.trust(harness.app.profile.settings.device_id)
    yield harness
    harness.close()


# --------------------------------------------------------------------------- helpers


def _row(sender, name: str):
    rows = [r for r in sender.picker.rows if r.device.name == name]
    assert rows, f"no device {name!r} in the picker: {[r.device.name for r in sender.picker.rows]}"
    return rows[0]


def _choose(sender, name: str) -> None:
    for row in sender.picker.rows:
        row.checkbox.setChecked(row.device.name == name)


def _record_panel_states(sender) -> dict[str, list[str]]:
    """Every state the sender's Pushes panel is told about, per push, in order.

    Start recording before sending: a phone on loopback may report before the send returns.
    """
    seen: dict[str, list[str]] = {}
    sender.app.listener.push_updated.connect(
        lambda update: seen.setdefault(update.get("push_id"), []).append(update["state"])
    )
    return seen


def _wait_label(sender, push_id: str, text: str, timeout: float = 60) -> None:
    row = sender.panel.rows[push_id]
    sender.qtbot.waitUntil(lambda: row.state_label.text() == text, timeout=int(timeout * 1000))


def _history(world, push_id: str) -> list[str]:
    client = RelayClient(world["relay"].url)
    return [h.state for h in _relay_push(world, push_id, client).history]


def _relay_push(world, push_id: str, client: RelayClient | None = None) -> Push:
    phone_profile = json.loads((world["phone"].data_dir / "profile.json").read_text())
    client = client or RelayClient(world["relay"].url)
    client.token = phone_profile["token"]
    return client.get_push(push_id)


def _in_order(sequence: list[str], wanted: list[str]) -> bool:
    it = iter(sequence)
    return all(any(item == w for item in it) for w in wanted)


def _installed(receiver: ReceiverProcess, app_id: str) -> dict | None:
    return next((a for a in receiver.state()["installed"] if a["app_id"] == app_id), None)


# --------------------------------------------------------------------------- the story


def test_install_now_from_the_store_reaches_the_phone(sender, world):
    """Steps 2-3: the picker shows the phone and greys the iPad; Install now installs it."""
    sender.open_picker_by_click('a.download[data-app-id="org.fdroid.fdroid"][data-format="apk"]')
    sender.qtbot.waitUntil(lambda: len(sender.picker.rows) == 2, timeout=WAIT_MS)
    phone_row, ipad_row = _row(sender, "Alex's Pixel"), _row(sender, "Alex's iPad")
    assert phone_row.compatible and phone_row.online
    assert not ipad_row.compatible and not ipad_row.checkbox.isEnabled()
    assert "iOS installs ipa" in ipad_row.device.reason
    assert ipad_row.note is not None and "iOS installs" in ipad_row.note.text()

    _choose(sender, "Alex's Pixel")
    recorded = _record_panel_states(sender)
    (push,) = sender.send(sender.picker.install_button)
    _wait_label(sender, push.id, "Installed")
    # The label may turn Installed from a listing of the pushes before the stream's own
    # push_update says so: wait for that event too.
    sender.qtbot.waitUntil(lambda: "installed" in recorded.get(push.id, []), timeout=WAIT_MS)

    states = recorded[push.id]
    assert _in_order(states, ["delivered", "downloading", "installed"]), states
    history = _history(world, push.id)
    assert _in_order(history, ["sent", "delivered", "downloading", "verifying", "installing", "installed"]), history
    installed = _installed(world["phone"], "org.fdroid.fdroid")
    assert installed is not None
    assert hashlib.sha256(Path(installed["path"]).read_bytes()).hexdigest() == push.package.sha256


def test_offline_tablet_gets_the_relays_copy_when_it_comes_back(sender, world):
    """Step 4: queued while the iPad is off; the relay mirrors the package; delivered on return."""
    tablet = world["tablet"]
    tablet.stop()
    _wait_offline(world, "Alex's iPad")  # the relay notices at the stream's next keepalive
    sender.load(world["page"].url + "/index.html")
    sender.open_picker_by_click("a#ipa")
    assert not _row(sender, "Alex's iPad").online
    assert "delivers it when the device is back" in _row(sender, "Alex's iPad").note.text()
    _choose(sender, "Alex's iPad")
    (push,) = sender.send(sender.picker.install_button)
    _wait_label(sender, push.id, "Queued (device offline)")
    relay_push = _wait_mirrored(world, push.id)
    assert relay_push.package.url == f"/api/v1/packages/{world['ipa_sha256']}"
    before = len(world["slow"].range_log)  # the relay's own fetch is done

    tablet.start()
    tablet.wait_for(
        lambda s: any(a["app_id"] == "org.videolan.vlc-ios" for a in s["installed"]), 60, "the iPad to install the app"
    )
    _wait_label(sender, push.id, "Installed")
    installed = _installed(tablet, "org.videolan.vlc-ios")
    assert hashlib.sha256(Path(installed["path"]).read_bytes()).hexdigest() == world["ipa_sha256"]
    assert len(world["slow"].range_log) == before  # the iPad fetched the relay's copy, not the site


def _wait_offline(world, name: str, timeout: float = 60) -> None:
    phone_profile = json.loads((world["phone"].data_dir / "profile.json").read_text())
    client = RelayClient(world["relay"].url, phone_profile["token"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(d.online for d in client.devices() if d.name == name):
            return
        time.sleep(0.2)
    raise TimeoutError(f"the relay still sees {name} online")


def _wait_mirrored(world, push_id: str, timeout: float = 60) -> Push:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tablet_profile = json.loads((world["tablet"].data_dir / "profile.json").read_text())
        client = RelayClient(world["relay"].url, tablet_profile["token"])
        push = client.get_push(push_id)
        if push.mirrored:
            return push
        time.sleep(0.2)
    raise TimeoutError("the relay did not mirror the package")


def test_notify_push_waits_for_the_tap(sender, world):
    """Step 5: "Send, I'll install it myself" waits on the phone until Download is tapped."""
    sender.open_picker_by_click('a.download[data-app-id="com.termux"][data-format="apk"]')
    _choose(sender, "Alex's Pixel")
    (push,) = sender.send(sender.picker.notify_button)
    phone = world["phone"]
    card = phone.wait_for(
        lambda s: (
            (phone_push := next((p for p in s["pushes"] if p["push_id"] == push.id), None)) is not None
            and phone_push["prompt"] == "download"
        ),
        60,
        "the notice",
    )
    time.sleep(1.0)  # nothing happens by itself (a check that something does not happen needs a time)
    assert phone.push(push.id)["state"] == "delivered"
    assert _installed(phone, "com.termux") is None

    phone.tap(push.id, "download")
    phone.wait_for(lambda s: any(a["app_id"] == "com.termux" for a in s["installed"]), 60, "the install")
    _wait_label(sender, push.id, "Installed")
    assert card["pushes"]  # the card was there before the tap


def test_metered_network_pauses_and_wifi_resumes_a_big_download(sender, world):
    """Step 6: mid-download the phone goes metered: it waits, the sender sees it; Wi-Fi resumes."""
    phone, slow = world["phone"], world["slow"]
    # The store stops sending at 2 MB until the network has been switched: the download is
    # certainly mid-way then, not finished early on a quick machine or late on a busy one.
    hold = slow.hold("big-notes-2.0.apk", after=2 * 1024 * 1024)
    try:
        sender.load(world["page"].url + "/index.html")
        sender.open_picker_by_click("a#big")
        _choose(sender, "Alex's Pixel")
        recorded = _record_panel_states(sender)
        (push,) = sender.send(sender.picker.install_button)
        phone.wait_for(
            lambda s: (
                (p := next((x for x in s["pushes"] if x["push_id"] == push.id), None)) is not None
                and p["state"] == "downloading"
                and p["bytes_done"] > 0
            ),
            60,
            "the download to start",
        )
        assert hold.reached.wait(60), "the download did not reach the held part"
        phone.set_metered(True)
        phone.wait_for(
            lambda s: next(x for x in s["pushes"] if x["push_id"] == push.id)["state"] == "waiting_for_wifi",
            60,
            "the download to pause for Wi-Fi",
        )
        _wait_label(sender, push.id, "Waiting for Wi-Fi")
        paused_at = phone.push(push.id)["bytes_done"]
        assert 0 < paused_at < BIG_APK
    finally:
        slow.release()

    phone.set_metered(False)
    phone.wait_for(lambda s: any(a["app_id"] == "org.example.bignotes" for a in s["installed"]), 60, "the install")
    _wait_label(sender, push.id, "Installed")

    installed = _installed(phone, "org.example.bignotes")
    assert hashlib.sha256(Path(installed["path"]).read_bytes()).hexdigest() == world["big_sha256"]
    resumed = [r for r in slow.range_log if r.startswith("bytes=") and not r.startswith("bytes=0-")]
    assert resumed, f"the download did not resume with a Range request: {slow.range_log}"
    sender.qtbot.waitUntil(lambda: "installed" in recorded.get(push.id, []), timeout=WAIT_MS)
    states = recorded[push.id]
    assert _in_order(states, ["downloading", "waiting_for_wifi", "downloading", "installed"]), states


def test_pushing_an_installed_app_again_says_already_installed(sender, world):
    """Step 7: the phone has F-Droid already (step 3): it answers Already installed."""
    if _installed(world["phone"], "org.fdroid.fdroid") is None:
        test_install_now_from_the_store_reaches_the_phone(sender, world)
        sender.load(world["relay"].url + "/")
    sender.open_picker_by_click('a.download[data-app-id="org.fdroid.fdroid"][data-format="apk"]')
    _choose(sender, "Alex's Pixel")
    (push,) = sender.send(sender.picker.install_button)
    _wait_label(sender, push.id, "Already installed")
    assert _history(world, push.id)[-1] == "already_installed"
