"""The sender's per-profile state: relay address, account, this computer's device identity, token.

Everything lives in ``shared.paths.data_dir("sender", profile, override)``. The token goes
to the system keyring when the ``keyring`` package is installed and has a usable backend,
otherwise to a file only the user can read (0600).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import socket
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.paths import data_dir
from shared.protocol import Platform
from shared.relay_client import DeviceInfo
from shared.signing import DeviceKey

log = logging.getLogger(__name__)

KEYRING_SERVICE = "appbeam-sender"


def current_platform() -> Platform:
    """This computer's platform in the protocol's words (``linux``, ``windows``, ``macos``)."""
    if sys.platform.startswith("win"):
        return Platform.WINDOWS
    if sys.platform == "darwin":
        return Platform.MACOS
    return Platform.LINUX


def current_model() -> str:
    """A short model line for this computer (``Linux x86_64``)."""
    system = {"linux": "Linux", "windows": "Windows", "macos": "macOS"}[current_platform()]
    machine = platform.machine() or "computer"
    return f"{system} {machine}"


def default_device_name() -> str:
    """The name this computer gets in device lists when the user gives none."""
    host = socket.gethostname().split(".", 1)[0] or "computer"
    return f"{host} (browser)"


@dataclass
class SenderSettings:
    """What the sender remembers between runs (``settings.json``); never the password."""

    relay_url: str = ""
    username: str = ""
    device_id: str = ""
    device_name: str = ""
    home_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class TokenStore:
    """Keeps this device's relay token: keyring if available, else a 0600 file."""

    def __init__(self, directory: Path, account_key: str, *, use_keyring: bool = True):
        self.path = directory / "token"
        self.account_key = account_key
        self._keyring = _load_keyring() if use_keyring else None

    def load(self) -> str | None:
        """The stored token, or None."""
        if self._keyring is not None:
            try:
                token = self._keyring.get_password(KEYRING_SERVICE, self.account_key)
                if token:
                    return str(token)
            except Exception as exc:  # keyring backends raise their own error types
                log.info("keyring unavailable (%s); using the token file", exc)
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def save(self, token: str) -> None:
        """Store the token (keyring, else a file only the user can read)."""
        if self._keyring is not None:
            try:
                self._keyring.set_password(KEYRING_SERVICE, self.account_key, token)
                self.path.unlink(missing_ok=True)
                return
            except Exception as exc:  # fall back to the file, as documented
                log.info("keyring refused the token (%s); using the token file", exc)
        # Create with 0600 from the start: chmod after writing would leave a window.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token)
        os.chmod(self.path, 0o600)

    def clear(self) -> None:
        """Forget the token (signed out, or another relay or account)."""
        if self._keyring is not None:
            try:
                self._keyring.delete_password(KEYRING_SERVICE, self.account_key)
            except Exception:  # nothing stored there is fine
                pass
        self.path.unlink(missing_ok=True)


def _load_keyring() -> ModuleType | None:
    """The ``keyring`` module when it is installed and has a working backend (it is optional:
    untyped here, its calls answer ``Any``)."""
    try:
        import keyring  # optional: only used when the user installed it
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
    except Exception:
        return None
    module: ModuleType = keyring
    return module


class SenderProfile:
    """One sender profile on disk: settings, device identity and token."""

    def __init__(
        self,
        name: str = "default",
        data_dir_override: str | os.PathLike[str] | None = None,
        *,
        use_keyring: bool = True,
    ):
        self.name = name
        self.directory = data_dir("sender", name, data_dir_override)
        self.settings_path = self.directory / "settings.json"
        self.settings = self._load_settings()
        if not self.settings.device_id:
            # Generated once per profile: the relay knows this computer by it across logins.
            self.settings.device_id = f"{current_platform()}-{uuid.uuid4().hex[:16]}"
            self.save()
        self.tokens = TokenStore(self.directory, f"{name}:{self.settings.device_id}", use_keyring=use_keyring)

    @property
    def signing_key(self) -> DeviceKey:
        """This computer's push-signing key, made on first use (``shared/signing.py``)."""
        return DeviceKey.load_or_create(self.directory / "device_key.pem")

    @property
    def web_storage_dir(self) -> Path:
        """Where the browser keeps cookies and cache for this profile."""
        path = self.directory / "web"
        path.mkdir(exist_ok=True)
        return path

    def device_info(self) -> DeviceInfo:
        """How this computer describes itself to the relay at login."""
        return DeviceInfo(
            id=self.settings.device_id,
            name=self.settings.device_name or default_device_name(),
            model=current_model(),
            platform=current_platform(),
        )

    def _load_settings(self) -> SenderSettings:
        try:
            raw = json.loads(self.settings_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return SenderSettings()
        except ValueError:
            log.warning("%s is not valid JSON; starting with fresh settings", self.settings_path)
            return SenderSettings()
        known = {k: raw[k] for k in SenderSettings.__dataclass_fields__ if k in raw}
        return SenderSettings(**known)

    def save(self) -> None:
        """Write the settings atomically."""
        tmp = self.settings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self.settings), indent=2), encoding="utf-8")
        tmp.replace(self.settings_path)

    @property
    def is_set_up(self) -> bool:
        """True when a relay, an account and a token are known: no first-run dialog needed."""
        return bool(self.settings.relay_url and self.settings.username and self.tokens.load())
