"""Stand-ins for the relay client and the device, for Kivy-free tests of the receiver."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

from mobile_receiver.platform.base import DevicePlatform, NetworkMonitor, NetworkStatus, Notifier
from mobile_receiver.platform.desktop import EmulatedInstaller
from mobile_receiver.trust import KeyRing
from shared.relay_errors import RelayError, RelayUnavailable
from shared.signing import DeviceKey, PushFacts, utc_timestamp
from tests.helpers.messages import listed_device


class FakeRelayClient:
    """Records reports; can be switched offline; knows a tiny catalog."""

    def __init__(self, base_url: str = "http://127.0.0.1:1/", token: str | None = "tok"):
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.reports: list[dict] = []
        self.offline = False
        self.refuse: dict[str, RelayError] = {}  # state -> error to raise for it
        self.catalog: dict[tuple[str, str], str] = {}
        self.lock = threading.Lock()

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def absolute_url(self, url: str) -> str:
        return urljoin(self.base_url, url)

    def report(self, push_id, state, *, bytes_done=None, bytes_total=None, detail=None):
        if self.offline:
            raise RelayUnavailable("offline (test)")
        if str(state) in self.refuse:
            raise self.refuse[str(state)]
        with self.lock:
            self.reports.append(
                {
                    "push_id": push_id,
                    "state": str(state),
                    "bytes_done": bytes_done,
                    "bytes_total": bytes_total,
                    "detail": detail,
                }
            )
        return {}

    def package_url_for(self, app_id: str, platform: str) -> str:
        try:
            return self.catalog[(app_id, platform)]
        except KeyError:
            raise RelayError(404, "no_package_for_platform", f"no {platform} package of {app_id}") from None

    def states(self, push_id: str | None = None) -> list[str]:
        """Reported states, consecutive progress reports folded into one."""
        out: list[str] = []
        with self.lock:
            for r in self.reports:
                if push_id and r["push_id"] != push_id:
                    continue
                if out and out[-1] == r["state"] == "downloading":
                    continue
                out.append(r["state"])
        return out


class FakeNetwork(NetworkMonitor):
    """A network whose metered flag (and whether there is one at all) the test sets."""

    def __init__(self, metered: bool = False):
        super().__init__()
        self.metered = metered
        self.connected = True

    def status(self) -> NetworkStatus:
        return NetworkStatus(self.metered, "test", connected=self.connected)

    def set_metered(self, value: bool) -> None:
        changed = value != self.metered
        self.metered = value
        if changed:
            self._emit(self.status())

    def set_connected(self, value: bool) -> None:
        """The platform says the network went away (False) or came back (True)."""
        changed = value != self.connected
        self.connected = value
        if changed:
            self._emit(self.status())

    has_metered_switch = True

    def set_treat_as_metered(self, value: bool) -> None:
        self.set_metered(value)

    @property
    def treat_as_metered(self) -> bool:
        return self.metered


class FakeNotifier(Notifier):
    def __init__(self):
        self.shown: list[tuple[str, str]] = []

    def notify(self, title, message, *, key=None):
        self.shown.append((title, message))


def fake_platform(data_dir: Path, platform: str = "android", metered: bool = False) -> DevicePlatform:
    return DevicePlatform(
        network=FakeNetwork(metered),
        installer=EmulatedInstaller(data_dir, platform),
        notifier=FakeNotifier(),
        name="test",
    )


#: The fake sending laptop and its key; the device id the fake receivers use.
SENDER_ID = "laptop-anna"
SENDER_KEY = DeviceKey.generate()
RECEIVER_ID = "phone-test"


def push_message(
    push_id: str,
    url: str | None,
    body: bytes | None = None,
    *,
    mode: str = "install_now",
    app_id: str = "org.example.app",
    version: str = "1.0",
    version_code: int | None = 10,
    sha256: str | None = "auto",
    fmt: str = "apk",
    name: str = "Example",
    icon_url: str | None = None,
    signed: bool = True,
    target: str = RECEIVER_ID,
) -> dict:
    """A ``push`` event body like the relay sends, signed by the fake sender's key for ``target``
    (when it names a package: a receiver refuses to install silently without a signed hash)."""
    if sha256 == "auto":
        sha256 = hashlib.sha256(body).hexdigest() if body is not None else None
    package = None
    if url is not None:
        package = {"format": fmt, "url": url, "sha256": sha256, "size": len(body) if body is not None else None}
    message = {
        "push_id": push_id,
        "mode": mode,
        "sender": {"username": "anna", "device_id": SENDER_ID, "device_name": "Anna's laptop"},
        "app": {
            "id": app_id,
            "name": name,
            "version": version,
            "version_code": version_code,
            "size": len(body) if body is not None else None,
            "icon_url": icon_url,
            "packages": [package] if package else [],
        },
        "package": package,
        "created_at": "2026-11-26T10:00:00+00:00",
        "signature": None,
    }
    if signed and package is not None:
        facts = PushFacts(push_id, target, "install_now", app_id, version, fmt, sha256, utc_timestamp())
        message["signature"] = SENDER_KEY.sign(facts).to_dict()
    return message


def trusted_keyring(data_dir: Path) -> KeyRing:
    """A receiver's key ring that trusts the fake sender's key, as after logging in."""
    ring = KeyRing(data_dir)
    ring.pin_account([listed_device(SENDER_ID, name="Anna's laptop", platform="", public_key=SENDER_KEY.public_key)])
    return ring


def wait_until(condition, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
