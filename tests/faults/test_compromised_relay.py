"""A compromised relay cannot make a phone install anything silently (issue 7, "Done means").

A real relay process and a real headless receiver ("phone") process. The phone logs in
after the laptop, so it pins the laptop's key. The attacker owns the relay: it edits the
relay's database directly (SQLite, while the relay runs) and may call the API with tokens
it made itself, but it has no device's private key.

- control: a signed install_now from the pinned laptop installs by itself;
- a queued push whose package is swapped in the database (with or without its hash, with
  or without rewriting the signed hash) arrives as a notice that says why;
- a device the relay slips into the account, pushing with its own key, is announced and
  not trusted: its push is a notice; once the user taps Trust, its *next* push installs;
- an unsigned (or signed-as-notify) notify push flipped to install_now in the database is
  a notice, not an install;
- a key the relay swaps before it forces the phone to log in again stays untrusted (only
  the first login to an account pins keys).

Each test checks what the user sees (installed apps, the card, its reason, the key list)
and that the attacker's package bytes are nowhere on the phone. "Nothing happened" is
proven with a barrier, not a sleep: a later, genuine signed push from the laptop is
installed first, so the phone has acted on everything before it.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from appbeam_devtools.receiver_control import send
from relay_server.demo_catalog import build_package
from shared.messages import Push
from shared.relay_client import DeviceInfo, RelayClient
from shared.signing import DeviceKey, fingerprint
from tests.faults.conftest import wait_until
from tests.helpers.receiver_process import ReceiverProcess
from tests.helpers.relay_process import RelayProcess
from tests.helpers.relay_start import start_with_port_retry
from tests.helpers.relay_tamper import RelayDatabaseEditor
from tests.helpers.servers import FileServer

pytestmark = pytest.mark.e2e

PASSWORD = "compromised relay password"
WAIT = 120.0  # generous: two cores, other runs at the same time; never a timing assertion
LAPTOP_ID = "anna-laptop"
INTRUDER_ID = "anna-new-laptop"
INTRUDER_NAME = "Anna's new laptop"


class RecordingFileServer(FileServer):
    """A FileServer that remembers the path of every GET (who fetched what is checked)."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.paths: list[str] = []
        paths = self.paths

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                paths.append(self.path)
                super().do_GET()

        self.httpd.RequestHandlerClass = functools.partial(Handler, directory=str(root))


@dataclass
class Package:
    app_id: str
    name: str
    body: bytes
    url: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def app(self, version: str = "1.0") -> dict:
        return {
            "id": self.app_id,
            "name": self.name,
            "version": version,
            "version_code": 1,
            "packages": [{"format": "apk", "url": self.url, "sha256": self.sha256, "size": len(self.body)}],
        }


@dataclass
class World:
    relay: RelayProcess
    laptop: RelayClient
    phone: ReceiverProcess
    phone_id: str
    store: RecordingFileServer
    db: RelayDatabaseEditor
    packages: dict[str, Package]


@pytest.fixture
def world(tmp_path, relays, receivers):
    root = tmp_path / "store"
    root.mkdir()
    with RecordingFileServer(root) as store:
        packages = {}
        for key, app_id, name, head in (
            ("good", "org.example.notes", "Notes", b"GOOD"),
            ("evil", "org.example.notes", "Notes", b"EVIL"),  # same app id: a swapped package
            ("intruder", "org.example.flashlight", "Flashlight", b"EVIL"),
            ("trusted", "org.example.weather", "Weather", b"FINE"),
            ("barrier1", "org.example.clock", "Clock", b"BAR1"),
            ("barrier2", "org.example.timer", "Timer", b"BAR2"),
        ):
            # a real (tiny) APK each, with bytes of its own: the phone checks what it installs
            body = build_package("apk", app_id, name, "1.0", 1, size=200_000, seed=head + secrets.token_bytes(16))
            (root / f"{key}.apk").write_bytes(body)
            packages[key] = Package(app_id, name, body, f"{store.url}/{key}.apk")
        relay = start_with_port_retry(lambda: relays(tmp_path / "relay"))
        laptop = RelayClient(relay.url)
        laptop.create_account("anna", PASSWORD)
        laptop.login("anna", PASSWORD, DeviceInfo(LAPTOP_ID, "Anna's laptop", "ThinkPad", "linux"))
        # The phone logs in after the laptop: it pins the laptop's key as trusted.
        phone = receivers(
            tmp_path / "phone",
            relay.url,
            "anna",
            PASSWORD,
            name="Anna's Pixel",
            model="Pixel 8",
            platform="android",
            start=False,
        )
        phone.start(timeout=WAIT)
        phone_id = json.loads((phone.data_dir / "profile.json").read_text())["device_id"]
        yield World(relay, laptop, phone, phone_id, store, RelayDatabaseEditor(relay), packages)
        laptop.session.close()


# --------------------------------------------------------------------------- helpers


def card(state: dict, push_id: str) -> dict | None:
    return next((p for p in state["pushes"] if p["push_id"] == push_id), None)


def installed(state: dict, app_id: str) -> dict | None:
    return next((a for a in state["installed"] if a["app_id"] == app_id), None)


def key_of(state: dict, device_id: str) -> dict | None:
    return next((k for k in state["keys"] if k["device_id"] == device_id), None)


def decided(shown: dict) -> bool:
    """The phone has made up its mind about a push: it asks the user, or it went ahead."""
    return shown["prompt"] is not None or shown["state"] != "delivered"


def wait_for_card(world: World, push_id: str, what: str) -> dict:
    """The push's card once the phone decided what to do with it (asserted by the caller,
    so a phone that wrongly installs fails at once instead of after a timeout)."""
    state = world.phone.wait_for(lambda s: (c := card(s, push_id)) is not None and decided(c), WAIT, what)
    return card(state, push_id)


def wait_installed(world: World, push_id: str, app_id: str) -> dict:
    return world.phone.wait_for(
        lambda s: (c := card(s, push_id)) is not None and c["state"] == "installed" and installed(s, app_id),
        WAIT,
        f"{app_id} to be installed",
    )


def take_phone_offline(world: World) -> None:
    world.phone.stop()
    wait_until(
        lambda: not any(d.id == world.phone_id and d.online for d in world.laptop.devices()),
        WAIT,
        "the relay to see the phone go offline",
    )


def bring_phone_back(world: World) -> None:
    """The phone comes back online as an app does: with its saved token, nobody types a
    password (so it pins nothing new)."""
    args = world.phone.args
    if "--password" in args:
        at = args.index("--password")
        del args[at : at + 2]
    world.phone.start(timeout=WAIT)


def queue_for_offline_phone(world: World, client: RelayClient, package: Package, mode: str) -> Push:
    """Push while the phone is offline; the relay keeps it (and mirrors the package)."""
    (push,) = client.push(package.app(), mode, [world.phone_id])
    assert push.state == "queued", push
    wait_until(lambda: world.laptop.get_push(push.id).mirrored, WAIT, "the relay to mirror the package")
    return push


def barrier(world: World, package: Package) -> dict:
    """A genuine signed install_now from the laptop, pushed after everything else: once it is
    installed, the phone has acted on every push before it. Returns the phone's state."""
    (push,) = world.laptop.push(package.app(), "install_now", [world.phone_id])
    state = wait_installed(world, push.id, package.app_id)
    assert card(state, push.id)["downgraded"] is None
    return state


def files_with_sha(root: Path, sha: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and hashlib.sha256(path.read_bytes()).hexdigest() == sha:
            found.append(path)
    return found


def assert_never_installed(world: World, state: dict, package: Package) -> None:
    """The package is not installed, and its bytes are nowhere on the phone (not even a download)."""
    assert all(a["sha256"] != package.sha256 for a in state["installed"]), state["installed"]
    for app in state["installed"]:
        assert hashlib.sha256(Path(app["path"]).read_bytes()).hexdigest() == app["sha256"]
    assert files_with_sha(world.phone.data_dir, package.sha256) == []


def assert_a_notice_saying(
    world: World, push_id: str, reason: str, state: dict, sender: RelayClient | None = None
) -> dict:
    """The push's card waits for the user (Download / Dismiss), saying why it did not install,
    and the relay (so the sender) heard the same."""
    shown = card(state, push_id)
    assert shown is not None, state["pushes"]
    assert shown["mode"] == "notify"
    assert shown["state"] == "delivered" and shown["prompt"] == "download"
    assert shown["downgraded"] and reason in shown["downgraded"], shown
    assert shown["notice"] == f"Not installed by itself: {shown['downgraded']}"
    at_relay = (sender or world.laptop).get_push(push_id)
    assert at_relay.state == "delivered"
    expected = f"waiting for the user: {shown['downgraded']}"
    if shown.get("downgraded_details"):  # the fingerprint, behind Details on the card, follows for the sender
        expected = f"{expected}. {shown['downgraded_details']}"
    assert at_relay.detail == expected
    return shown


# --------------------------------------------------------------------------- (a) control


def test_a_signed_install_now_from_the_pinned_laptop_installs_by_itself(world):
    """Control: with nothing tampered, the same set-up installs silently. (So the refusals
    below are the signature check at work, not a set-up that never installs.)"""
    good = world.packages["good"]
    state = world.phone.state()
    laptop_key = key_of(state, LAPTOP_ID)
    assert laptop_key == {
        "device_id": LAPTOP_ID,
        "name": "Anna's laptop",
        "fingerprint": world.laptop.key.fingerprint,
        "trusted": True,
    }

    (push,) = world.laptop.push(good.app(), "install_now", [world.phone_id])
    state = wait_installed(world, push.id, good.app_id)

    shown = card(state, push.id)
    assert shown["mode"] == "install_now" and shown["downgraded"] is None
    assert "Not installed by itself" not in (shown["notice"] or "")
    app = installed(state, good.app_id)
    assert app["sha256"] == good.sha256
    assert Path(app["path"]).read_bytes() == good.body
    wait_until(lambda: world.laptop.get_push(push.id).state == "installed", WAIT, "the relay to hear of it")


# --------------------------------------------------------------------------- (b) package swapped


SWAPS = {
    # the package and its hash, as the relay serves them
    "package-and-hash": ("differs from the one the sender signed", False, True),
    # ... and the hash inside the stored signature too, so that the two agree
    "package-hash-and-signed-hash": ("does not match this push", True, True),
    # the package, and no hash at all (so the download could not be checked either)
    "package-without-hash": ("names no SHA-256 for its package", False, False),
}


@pytest.mark.parametrize("swap", list(SWAPS))
def test_a_queued_push_whose_package_is_swapped_in_the_database_is_not_installed(world, swap):
    reason, rewrite_signature, with_hash = SWAPS[swap]
    good, evil = world.packages["good"], world.packages["evil"]
    take_phone_offline(world)
    push = queue_for_offline_phone(world, world.laptop, good, "install_now")
    assert push.signed

    ((raw_signature,),) = world.db.rows("SELECT signature FROM push WHERE id = ?", [push.id])
    signature = json.loads(raw_signature)
    assert signature["sha256"] == good.sha256
    changes = {
        "package_url": evil.url,
        "package_sha256": evil.sha256 if with_hash else None,
        "package_size": len(evil.body),
    }
    if rewrite_signature:
        changes["signature"] = json.dumps({**signature, "sha256": evil.sha256})
    world.db.update_push(push.id, **changes)
    at_relay = world.laptop.get_push(push.id).package
    assert at_relay.url == evil.url and at_relay.sha256 == changes["package_sha256"]  # the relay serves it

    bring_phone_back(world)
    wait_for_card(world, push.id, "the swapped push to arrive")
    state = barrier(world, world.packages["barrier1"])

    assert_a_notice_saying(world, push.id, reason, state)
    assert installed(state, good.app_id) is None
    assert [a["app_id"] for a in state["installed"]] == [world.packages["barrier1"].app_id]
    assert_never_installed(world, state, evil)
    assert "/evil.apk" not in world.store.paths, "the phone fetched the swapped package by itself"


# --------------------------------------------------------------------------- (c) a device added by the relay


def test_a_device_the_relay_adds_cannot_install_until_the_user_trusts_its_key(world):
    intruder_pkg, trusted_pkg = world.packages["intruder"], world.packages["trusted"]
    intruder_key = DeviceKey.generate()
    token = secrets.token_urlsafe(32)
    world.db.add_device(like=LAPTOP_ID, device_id=INTRUDER_ID, name=INTRUDER_NAME, public_key=intruder_key.public_key)
    world.db.add_token(INTRUDER_ID, token)
    intruder = RelayClient(world.relay.url, token, key=intruder_key)
    try:
        # The relay takes it: the key is "registered" and the signature verifies with it.
        (push,) = intruder.push(intruder_pkg.app(), "install_now", [world.phone_id])
        assert push.mode == "install_now" and push.signed

        shown = wait_for_card(world, push.id, "the intruder's push to arrive")
        assert shown["prompt"] == "download" and shown["downgraded"], shown
        # One line that names the device to open and what to tap; the fingerprint behind Details.
        assert shown["downgraded"] == (
            f"{INTRUDER_NAME} is new: open Appbeam on Anna's Pixel and tap Trust next to '{INTRUDER_NAME}' in Settings"
        ), shown["downgraded"]
        assert intruder_key.fingerprint in shown["downgraded_details"]
        state = barrier(world, world.packages["barrier1"])

        assert_a_notice_saying(
            world, push.id, f"{INTRUDER_NAME} is new: open Appbeam on Anna's Pixel", state, sender=intruder
        )
        assert key_of(state, INTRUDER_ID) == {
            "device_id": INTRUDER_ID,
            "name": INTRUDER_NAME,
            "fingerprint": fingerprint(intruder_key.public_key),
            "trusted": False,
        }
        assert key_of(state, LAPTOP_ID)["trusted"] is True
        assert installed(state, intruder_pkg.app_id) is None
        assert_never_installed(world, state, intruder_pkg)
        assert "/intruder.apk" not in world.store.paths
        wait_until(
            lambda: "New device key" in world.phone.log_tail(400) and INTRUDER_NAME in world.phone.log_tail(400),
            WAIT,
            "the phone to announce the new key",
        )

        # The user compares fingerprints and taps Trust: the device's *next* push installs.
        assert send(world.phone.socket, {"action": "trust", "device_id": INTRUDER_ID}) == {"ok": True}
        assert key_of(world.phone.state(), INTRUDER_ID)["trusted"] is True
        (after,) = intruder.push(trusted_pkg.app(), "install_now", [world.phone_id])
        state = wait_installed(world, after.id, trusted_pkg.app_id)
    finally:
        intruder.session.close()

    assert card(state, after.id)["downgraded"] is None
    assert installed(state, trusted_pkg.app_id)["sha256"] == trusted_pkg.sha256
    # Trusting a key does not install what it sent before: that card still waits for the user.
    before = card(state, push.id)
    assert before["state"] == "delivered" and before["prompt"] == "download"
    assert installed(state, intruder_pkg.app_id) is None
    assert_never_installed(world, state, intruder_pkg)


def test_trusting_a_key_the_phone_never_saw_is_refused(world):
    """The control socket's trust needs a key the phone has seen; nothing else changes."""
    answer = send(world.phone.socket, {"action": "trust", "device_id": INTRUDER_ID})
    assert "error" in answer
    state = world.phone.state()
    assert key_of(state, INTRUDER_ID) is None
    assert [k["device_id"] for k in state["keys"] if k["trusted"]] == [LAPTOP_ID]


# --------------------------------------------------------------------------- (d) notify flipped to install_now


FLIPS = {
    "unsigned-notify": (False, "the push is not signed"),
    "signed-notify": (True, "does not match this push"),
}


@pytest.mark.parametrize("flip", list(FLIPS))
def test_a_notify_push_flipped_to_install_now_in_the_database_is_not_installed(world, flip):
    signed, reason = FLIPS[flip]
    evil = world.packages["evil"]
    sender = world.laptop if signed else RelayClient(world.relay.url, world.laptop.token)  # no key: unsigned
    take_phone_offline(world)
    try:
        push = queue_for_offline_phone(world, sender, evil, "notify")
    finally:
        if sender is not world.laptop:
            sender.session.close()
    assert push.signed is signed and push.mode == "notify"

    world.db.update_push(push.id, mode="install_now", requested_mode="install_now")
    at_relay = world.laptop.get_push(push.id)
    assert (at_relay.mode, at_relay.requested_mode) == ("install_now", "install_now")

    bring_phone_back(world)
    wait_for_card(world, push.id, "the flipped push to arrive")
    state = barrier(world, world.packages["barrier2"])

    assert_a_notice_saying(world, push.id, reason, state)
    assert installed(state, evil.app_id) is None
    assert [a["app_id"] for a in state["installed"]] == [world.packages["barrier2"].app_id]
    assert_never_installed(world, state, evil)


# --------------------------------------------------------------------------- a forced new login


def test_a_key_swapped_by_the_relay_before_it_forces_a_new_login_is_not_trusted(world):
    """The relay replaces the laptop's registered key with its own and revokes the phone's
    token; the user, signed out, types the password again. The laptop was pinned at the first
    login, so its new key is a *changed* key: announced, not trusted, no silent install."""
    thief = DeviceKey.generate()
    intruder_pkg = world.packages["intruder"]
    world.phone.stop()
    world.db.execute("UPDATE device SET public_key = ? WHERE id = ?", [thief.public_key, LAPTOP_ID])
    world.db.execute("UPDATE token SET revoked_at = created_at WHERE device_id = ?", [world.phone_id])
    world.phone.start(timeout=WAIT)  # logs in again with the password (the helper passes it)
    token = secrets.token_urlsafe(32)
    world.db.add_token(LAPTOP_ID, token)
    thief_client = RelayClient(world.relay.url, token, key=thief)
    try:
        (push,) = thief_client.push(intruder_pkg.app(), "install_now", [world.phone_id])
        shown = wait_for_card(world, push.id, "the push signed with the swapped key")
        state = world.phone.state()
    finally:
        thief_client.session.close()

    assert key_of(state, LAPTOP_ID)["trusted"] is False, state["keys"]
    assert shown["prompt"] == "download" and "changed its key" in (shown["downgraded"] or ""), shown
    assert_never_installed(world, state, intruder_pkg)
