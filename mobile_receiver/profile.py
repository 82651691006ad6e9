"""The receiver's profile: which relay, which account, and this device's stable identity.

Kept in ``profile.json`` in the profile's data dir. The device id is generated once, on
first use, and never changes, so the relay sees the same device across logins [0049].
"""

from __future__ import annotations

import platform as host_platform
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from mobile_receiver.storage import read_json, write_json_atomic
from shared.protocol import Platform
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from shared.signing import DeviceKey

PROFILE_FILE = "profile.json"
#: This device's signing key (made at first login; on Android this belongs in the Keystore).
KEY_FILE = "device_key.pem"


def default_model() -> str:
    """A model name for the emulated phone: the host's, so several receivers are told apart."""
    return f"Appbeam emulator ({host_platform.machine() or 'desktop'})"


@dataclass
class Profile:
    """What the receiver remembers between runs."""

    device_id: str = field(default_factory=lambda: f"recv-{uuid.uuid4().hex[:16]}")
    device_name: str = ""
    model: str = field(default_factory=default_model)
    platform: str = "android"
    relay_url: str = ""
    username: str = ""
    token: str | None = None
    wifi_only: bool = False
    language: str = ""  # Settings' choice: "" follows the system, else "en" or "zh_CN" (mobile_receiver.i18n)
    #: Why this phone is signed out, when the relay removed it (the first screen says it, after a
    #: restart too); cleared by the next login or pairing.
    removed_notice: str = ""

    @property
    def logged_in(self) -> bool:
        return bool(self.token and self.relay_url)

    def device_info(self) -> DeviceInfo:
        return DeviceInfo(
            id=self.device_id,
            name=self.device_name or self.device_id,
            model=self.model,
            platform=Platform(self.platform),
        )

    def client(self) -> RelayClient:
        """A relay client for this profile (with its token, if logged in)."""
        return RelayClient(self.relay_url, self.token)


class ProfileStore:
    """Loads and saves the profile of one data dir, atomically."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / PROFILE_FILE

    def load(self) -> Profile:
        """The stored profile; a new one (with a fresh device id, saved at once) on first run."""
        data = read_json(self.path, None)
        if isinstance(data, dict) and data.get("device_id"):
            known = {f.name for f in fields(Profile)}
            return Profile(**{k: v for k, v in data.items() if k in known})
        profile = Profile()
        self.save(profile)
        return profile

    def save(self, profile: Profile) -> None:
        write_json_atomic(self.path, asdict(profile))


def log_in(store: ProfileStore, profile: Profile, relay_url: str, username: str, password: str) -> Profile:
    """Log in to ``relay_url`` as this device (registering it); saves and returns the profile.

    Raises RelayError when the relay refuses or cannot be reached. The password is never stored.
    """
    client = RelayClient(relay_url)
    key = DeviceKey.load_or_create(store.path.parent / KEY_FILE)
    try:
        client.login(username, password, profile.device_info(), key=key)
    except RelayError as exc:
        if exc.code != "device_id_unavailable":
            raise
        # This phone's id is registered to another account (it was used with one before):
        # it becomes a new device of this account, under a new id.
        profile.device_id = Profile().device_id
        client.login(username, password, profile.device_info(), key=key)
    profile.relay_url = client.base_url.rstrip("/")
    profile.username = username
    profile.token = client.token
    store.save(profile)
    return profile


def log_out(store: ProfileStore, profile: Profile) -> None:
    """Forget the token (telling the relay when it can be reached); keeps the device id."""
    if profile.token:
        try:
            profile.client().logout()
        except Exception:  # noqa: BLE001 - logging out locally must work offline too
            pass
    profile.token = None
    store.save(profile)
