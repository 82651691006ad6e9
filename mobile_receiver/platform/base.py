"""The small interfaces the receiver needs from the device it runs on.

Three facades, in the manner of plyer: the network (Wi-Fi or metered), the installer,
and notifications. The desktop implementations (an emulated phone) live in
``desktop.py``; the Android ones (pyjnius) in ``android.py``. ``choose()`` in the package
picks one set at start-up and imports it lazily.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.messages import InstallInfo


@dataclass(frozen=True)
class NetworkStatus:
    """What the network looks like to the download policy."""

    metered: bool
    source: str  # where the answer came from: "networkmanager", "setting", "android"
    #: False when the platform knows there is no network at all (downloads then wait, and try
    #: again the moment one comes back); a desktop cannot tell and always says True.
    connected: bool = True


class NetworkMonitor(ABC):
    """Tells whether the connection is metered, and calls listeners when that changes."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[NetworkStatus], None]] = []
        self._listeners_lock = threading.Lock()

    @abstractmethod
    def status(self) -> NetworkStatus:
        """The network as it is now."""

    def is_metered(self) -> bool:
        return self.status().metered

    def subscribe(self, listener: Callable[[NetworkStatus], None]) -> None:
        """Call ``listener(status)`` (from any thread) whenever the metered flag or the
        connectivity changes."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[NetworkStatus], None]) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _emit(self, status: NetworkStatus) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(status)

    #: Whether this platform has a "Treat this connection as metered" switch (Android knows
    #: from the system, so it has none and Settings disables the switch).
    has_metered_switch = False

    def set_treat_as_metered(self, value: bool) -> None:
        """The user's "Treat this connection as metered" switch, where ``has_metered_switch``."""
        raise NotImplementedError(f"{type(self).__name__} takes the metered flag from the system")

    @property
    def treat_as_metered(self) -> bool:
        return False

    def start(self) -> None:  # noqa: B027 (a monitor with nothing to start keeps this default)
        """Begin watching (threads, callbacks)."""

    def stop(self) -> None:  # noqa: B027 (nor anything to stop)
        """Stop watching; joins any thread it started."""


class InstallError(Exception):
    """The package could not be installed; the message is for the user."""


@dataclass(frozen=True)
class InstalledApp:
    """One app on the device, as the installed-apps list shows it."""

    app_id: str
    name: str | None
    version: str | None
    version_code: int | None
    installed_at: str | None = None
    format: str | None = None
    sha256: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Installer(ABC):
    """Installs verified packages and knows which apps are on the device."""

    @abstractmethod
    def installed(self, app_id: str) -> InstalledApp | None:
        """The installed copy of ``app_id``, or None."""

    @abstractmethod
    def installed_apps(self) -> list[InstalledApp]:
        """Every installed app, by name."""

    @abstractmethod
    def install(self, package: Path, app: InstallInfo, fmt: str, sha256: str | None) -> InstalledApp:
        """Install ``package`` (already verified) as ``app``; raise InstallError on failure."""

    @abstractmethod
    def uninstall(self, app_id: str) -> None:
        """Remove ``app_id``; no error when it is not installed."""


class Notifier(ABC):
    """Shows the user a system notification (outside the app's own screens)."""

    @abstractmethod
    def notify(self, title: str, message: str, *, key: str | None = None) -> None:
        """Show (or replace, for the same ``key``) one notification."""


class QrScanner(ABC):
    """Reads a QR code with the device's camera (pairing with a computer, issue 14)."""

    @abstractmethod
    def scan(self, on_result: Callable[[str | None], None]) -> None:
        """Open the camera; later call ``on_result(text)`` with the QR code's text, or
        ``on_result(None)`` when the user gave up (from any thread)."""


@dataclass
class DevicePlatform:
    """The set of facades chosen at start-up."""

    network: NetworkMonitor
    installer: Installer
    notifier: Notifier
    name: str  # "desktop" or "android"
    #: The camera's QR reader where there is one; a desktop receiver opens a picture instead.
    scanner: QrScanner | None = None
