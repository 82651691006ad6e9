"""RelayClient signs its pushes, against a real relay process.

What a sender puts in ``POST /pushes`` is recorded on the way out; what a phone gets is
read from its real event stream. Each signature must verify with the key the laptop
registered at login (as the relay lists it to the phone) over the facts of *that* target:
its device id, the format chosen for its platform and that package's SHA-256. The phone's
own check (``mobile_receiver.trust.KeyRing``, pinned from the account's device list) must
then allow a silent install.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mobile_receiver.trust import KeyRing
from relay_server.demo_catalog import build_package
from shared.api_messages import CatalogEntry
from shared.messages import PushSignature
from shared.relay_client import USER_AGENT, DeviceInfo, RelayClient
from shared.signing import facts_for, fingerprint, verify
from tests.helpers.relay_process import RelayProcess
from tests.helpers.relay_start import start_with_port_retry
from tests.helpers.streams import StreamReader
from tests.receiver.package_server import PackageServer

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
WAIT = 60.0  # generous: two cores, other test runs at the same time


@pytest.fixture
def relay(tmp_path):
    """A relay with Anna's account and her laptop logged in (``relay.laptop``, with a key)."""
    made: list[RelayProcess] = []

    def start() -> RelayProcess:
        made.append(RelayProcess(tmp_path / "relay"))
        return made[-1].start()

    try:
        process = start_with_port_retry(start)
        laptop = RelayClient(process.url)
        laptop.create_account("anna", PASSWORD)
        laptop.login("anna", PASSWORD, DeviceInfo("anna-laptop", "Anna's laptop", "ThinkPad", "linux"))
        process.laptop = laptop
        yield process
        laptop.session.close()
    finally:
        for process in made:
            process.stop()


@pytest.fixture
def clients():
    """``clients(url, username, device_id, name, platform)``: logged-in devices, closed after."""
    made: list[RelayClient] = []

    def make(url: str, username: str, device_id: str, name: str, platform: str) -> RelayClient:
        client = RelayClient(url)
        client.login(username, PASSWORD, DeviceInfo(device_id, name, "Test device", platform))
        made.append(client)
        return client

    yield make
    for client in made:
        client.session.close()


def record_pushes(client: RelayClient) -> list[dict]:
    """Every ``POST /pushes`` body ``client`` sends from now on, as it went out."""
    sent: list[dict] = []
    original = client.call

    def call(method, path, shape, *, json_body=None, params=None):
        if method == "POST" and path == "/pushes":
            sent.append(json_body.to_dict())
        return original(method, path, shape, json_body=json_body, params=params)

    client.call = call
    return sent


def registered_key(viewer: RelayClient, device_id: str) -> str:
    """The public key the relay lists for ``device_id`` (what a phone pins)."""
    (device,) = [d for d in viewer.devices() if d.id == device_id]
    assert device.public_key, f"{device_id} has no registered key"
    assert device.fingerprint == fingerprint(device.public_key)
    return device.public_key


def push_message(reader: StreamReader, push_id: str) -> dict:
    """The ``push`` event for ``push_id`` on a device's stream."""
    while True:
        event = reader.next("push", timeout=WAIT)
        if event.data["push_id"] == push_id:
            return event.data


def verifies(
    public_key: str, signature: dict, *, device_id: str, mode: str, app: dict | CatalogEntry, fmt: str
) -> bool:
    parsed = PushSignature.from_dict(signature)
    app_id, version = (app.id, app.version) if isinstance(app, CatalogEntry) else (app["id"], app.get("version"))
    return verify(
        public_key,
        facts_for(parsed, device_id=device_id, mode=mode, app_id=app_id, version=version, fmt=fmt),
        parsed.value,
    )


def pinned_ring(tmp_path: Path, phone: RelayClient) -> KeyRing:
    """The key ring a phone that logged in now would have."""
    ring = KeyRing(tmp_path / f"ring-{os.urandom(4).hex()}")
    ring.path.parent.mkdir(parents=True)
    ring.pin_account(phone.devices())
    return ring


# --------------------------------------------------------------------------- own devices


def test_install_now_to_own_devices_is_signed_per_target_over_each_ones_format(relay, clients, tmp_path):
    """One push to an Android phone and an iPhone: two signatures, each over the package
    format that device gets (apk / ipa) and that package's SHA-256, each verifying with
    the laptop's registered key, and none valid for the other device or format."""
    laptop = relay.laptop
    phone = clients(relay.url, "anna", "anna-phone", "Anna's Pixel", "android")
    iphone = clients(relay.url, "anna", "anna-iphone", "Anna's iPhone", "ios")
    app = laptop.app("org.videolan.vlc")  # the catalog entry: an apk and an ipa, with hashes
    sha = {p.format: p.sha256 for p in app.packages}
    assert set(sha) == {"apk", "ipa"} and all(sha.values())
    sent = record_pushes(laptop)

    with StreamReader(phone) as phone_stream, StreamReader(iphone) as iphone_stream:
        pushes = laptop.push(app, "install_now", ["anna-phone", "anna-iphone"])
        by_device = {p.device_id: p for p in pushes}
        phone_msg = push_message(phone_stream, by_device["anna-phone"].id)
        iphone_msg = push_message(iphone_stream, by_device["anna-iphone"].id)

    (body,) = sent
    signatures = body["signatures"]
    assert set(signatures) == {"anna-phone", "anna-iphone"}
    key = registered_key(phone, "anna-laptop")
    assert key == laptop.key.public_key
    for device_id, fmt in (("anna-phone", "apk"), ("anna-iphone", "ipa")):
        signature = signatures[device_id]
        push = by_device[device_id]
        assert push.signed is True and push.mode == "install_now"
        assert push.format == fmt
        assert signature["push_id"] == push.id, "the relay keeps the push id the sender signed"
        assert signature["sha256"] == sha[fmt] == push.package.sha256
        assert verifies(key, signature, device_id=device_id, mode="install_now", app=app, fmt=fmt)
        other_device = "anna-iphone" if device_id == "anna-phone" else "anna-phone"
        other_fmt = "ipa" if fmt == "apk" else "apk"
        assert not verifies(key, signature, device_id=other_device, mode="install_now", app=app, fmt=fmt)
        assert not verifies(key, signature, device_id=device_id, mode="install_now", app=app, fmt=other_fmt)
        assert not verifies(key, signature, device_id=device_id, mode="notify", app=app, fmt=fmt)
    assert signatures["anna-phone"]["push_id"] != signatures["anna-iphone"]["push_id"]

    # The phones get the signature as it was made, and their own check lets it install.
    assert phone_msg["signature"] == signatures["anna-phone"]
    assert iphone_msg["signature"] == signatures["anna-iphone"]
    assert phone_msg["package"]["format"] == "apk" and iphone_msg["package"]["format"] == "ipa"
    assert pinned_ring(tmp_path, phone).refusal(phone_msg, "anna-phone") is None
    assert pinned_ring(tmp_path, iphone).refusal(iphone_msg, "anna-iphone") is None


def test_a_package_url_without_sha256_is_hashed_by_the_sender_before_signing(relay, clients, tmp_path):
    """The page gave a URL only: the sender fetches it once (no token: it is not the relay),
    and the push and its signature carry the package's real SHA-256 and size. The phone is
    online, so the relay does not mirror: the hash can only have come from the sender."""
    laptop = relay.laptop
    phone = clients(relay.url, "anna", "anna-phone", "Anna's Pixel", "android")
    body = build_package("apk", "org.example.hashme", "Hash me", "2.1", 21, size=300_000, seed=os.urandom(16))
    good_sha = hashlib.sha256(body).hexdigest()
    sent = record_pushes(laptop)

    with PackageServer(body) as store, StreamReader(phone) as stream:
        app = {
            "id": "org.example.hashme",
            "name": "Hash me",
            "version": "2.1",
            "packages": [{"format": "apk", "url": store.url}],
        }
        (push,) = laptop.push(app, "install_now", ["anna-phone"])
        msg = push_message(stream, push.id)
        fetches = list(store.requests)

    (request,) = sent
    (package,) = request["app"]["packages"]
    assert package["sha256"] == good_sha and package["size"] == len(body)
    signature = request["signatures"]["anna-phone"]
    assert signature["sha256"] == good_sha
    assert push.package.sha256 == good_sha and push.package.size == len(body)
    assert push.mirrored is False
    assert msg["package"]["sha256"] == good_sha and msg["package"]["url"] == store.url
    assert verifies(
        registered_key(phone, "anna-laptop"), signature, device_id="anna-phone", mode="install_now", app=app, fmt="apk"
    )
    assert pinned_ring(tmp_path, phone).refusal(msg, "anna-phone") is None
    assert len(fetches) == 1, fetches
    assert fetches[0].get("User-Agent") == USER_AGENT
    assert "Authorization" not in fetches[0], "the relay token went to another host"


def test_a_package_the_sender_cannot_fetch_is_pushed_unhashed_and_cannot_install_silently(relay, clients, tmp_path):
    laptop = relay.laptop
    phone = clients(relay.url, "anna", "anna-phone", "Anna's Pixel", "android")
    sent = record_pushes(laptop)

    with PackageServer(b"x" * 1000, fail_status=404, fail_times=10) as store, StreamReader(phone) as stream:
        app = {
            "id": "org.example.gone",
            "name": "Gone",
            "version": "1.0",
            "packages": [{"format": "apk", "url": store.url}],
        }
        (push,) = laptop.push(app, "install_now", ["anna-phone"])
        msg = push_message(stream, push.id)

    (request,) = sent
    assert request["app"]["packages"][0].get("sha256") is None
    assert request["signatures"]["anna-phone"]["sha256"] is None
    assert push.signed is True and push.package.sha256 is None
    assert "SHA-256 was not known" in pinned_ring(tmp_path, phone).refusal(msg, "anna-phone")


def test_a_notify_push_does_not_fetch_the_package_to_hash_it(relay, clients):
    """Only install_now needs a signed hash; the phone is online so the relay does not fetch
    it either (it mirrors only for devices that are offline)."""
    laptop = relay.laptop
    phone = clients(relay.url, "anna", "anna-phone", "Anna's Pixel", "android")
    sent = record_pushes(laptop)

    with PackageServer(b"y" * 1000) as store, StreamReader(phone) as stream:
        app = {
            "id": "org.example.later",
            "name": "Later",
            "version": "1.0",
            "packages": [{"format": "apk", "url": store.url}],
        }
        (push,) = laptop.push(app, "notify", ["anna-phone"])
        push_message(stream, push.id)
        fetches = list(store.requests)

    assert fetches == []
    assert sent[0]["signatures"]["anna-phone"]["sha256"] is None
    assert verifies(
        laptop.key.public_key,
        sent[0]["signatures"]["anna-phone"],
        device_id="anna-phone",
        mode="notify",
        app=app,
        fmt="apk",
    )
    assert push.signed is True and push.mode == "notify"


def test_a_push_by_app_id_only_signs_the_catalogs_version_and_sha256(relay, clients, tmp_path):
    laptop = relay.laptop
    phone = clients(relay.url, "anna", "anna-phone", "Anna's Pixel", "android")
    catalog = laptop.app("org.fdroid.fdroid")
    (apk,) = [p for p in catalog.packages if p.format == "apk"]
    assert apk.sha256
    sent = record_pushes(laptop)

    with StreamReader(phone) as stream:
        (push,) = laptop.push({"id": "org.fdroid.fdroid"}, "install_now", ["anna-phone"])
        msg = push_message(stream, push.id)

    (request,) = sent
    signature = request["signatures"]["anna-phone"]
    assert signature["sha256"] == apk.sha256 == push.package.sha256 == msg["package"]["sha256"]
    assert request["app"]["version"] == catalog.version  # what is signed is what is sent
    assert verifies(
        registered_key(phone, "anna-laptop"),
        signature,
        device_id="anna-phone",
        mode="install_now",
        app=catalog,
        fmt="apk",
    )
    assert not verifies(
        registered_key(phone, "anna-laptop"),
        signature,
        device_id="anna-phone",
        mode="install_now",
        app=catalog.replace(version=None),
        fmt="apk",
    )
    assert pinned_ring(tmp_path, phone).refusal(msg, "anna-phone") is None


# --------------------------------------------------------------------------- a friend's device


def test_install_now_to_a_friends_device_succeeds_as_a_signed_notify(relay, clients, tmp_path):
    """Own phone and a friend's phone in one push: both created, each with its own signed
    push id; the friend's becomes notify (the relay's rule), signed over what the sender
    asked (install_now), and the friend's phone does not trust the laptop's key anyway."""
    laptop = relay.laptop
    phone = clients(relay.url, "anna", "anna-phone", "Anna's Pixel", "android")
    RelayClient(relay.url).create_account("ben", PASSWORD)
    ben = clients(relay.url, "ben", "ben-phone", "Ben's phone", "android")
    laptop.request_friend("ben")
    ben.accept_friend("anna")
    app = laptop.app("org.videolan.vlc")
    sent = record_pushes(laptop)

    with StreamReader(phone) as phone_stream, StreamReader(ben) as ben_stream:
        pushes = laptop.push(app, "install_now", ["anna-phone", "ben-phone"])
        by_device = {p.device_id: p for p in pushes}
        phone_msg = push_message(phone_stream, by_device["anna-phone"].id)
        ben_msg = push_message(ben_stream, by_device["ben-phone"].id)

    assert set(by_device) == {"anna-phone", "ben-phone"}
    assert by_device["anna-phone"].mode == "install_now"
    friend = by_device["ben-phone"]
    assert (friend.mode, friend.requested_mode, friend.signed) == ("notify", "install_now", True)
    signatures = sent[0]["signatures"]
    key = registered_key(ben, "anna-laptop")  # friends see the key too (their phones ignore it)
    for device_id in ("anna-phone", "ben-phone"):
        assert signatures[device_id]["push_id"] == by_device[device_id].id
        assert verifies(key, signatures[device_id], device_id=device_id, mode="install_now", app=app, fmt="apk")
    assert ben_msg["mode"] == "notify" and ben_msg["signature"] == signatures["ben-phone"]
    assert pinned_ring(tmp_path, phone).refusal(phone_msg, "anna-phone") is None
    ben_ring = pinned_ring(tmp_path, ben)
    assert ben_ring.keys() == []  # only the account's own devices are pinned, never a friend's
    assert "unknown" in ben_ring.refusal({**ben_msg, "mode": "install_now"}, "ben-phone")
