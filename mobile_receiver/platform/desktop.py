"""The desktop implementations: an emulated phone on a computer.

- Network: NetworkManager's metered flag when ``nmcli`` answers, or'd with the setting
  "Treat this connection as metered". The setting lives in ``network.json`` in the
  receiver's data dir (``{"metered": true}``), which the monitor polls, so the demo and
  the end-to-end tests can flip it from outside the process by rewriting that file
  (or with ``appbeam receiver --profile P --set-network metered|wifi``).
- Installer: checks the package, copies it under ``<data dir>/apps/`` and records the app
  in ``installed.json``.
- Notifications: logged, and kept in memory for the app's own banner.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mobile_receiver.i18n import _
from mobile_receiver.platform.base import (
    InstalledApp,
    Installer,
    InstallError,
    NetworkMonitor,
    NetworkStatus,
    Notifier,
)
from mobile_receiver.storage import read_json, write_json_atomic
from shared.messages import InstallInfo
from shared.protocol import formats_for

log = logging.getLogger(__name__)

NETWORK_FILE = "network.json"


def read_networkmanager_metered(timeout: float = 2.0) -> bool | None:
    """NetworkManager's verdict on the active devices: True/False, or None when unknown.

    ``GENERAL.METERED`` is ``yes``, ``no``, ``yes (guessed)``, ``no (guessed)`` or ``unknown``;
    any active device that is metered makes the connection metered.
    """
    nmcli = shutil.which("nmcli")
    if not nmcli:
        return None
    try:
        out = subprocess.run(
            [nmcli, "-t", "-f", "GENERAL.METERED", "dev", "show"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_nmcli_metered(out)


def parse_nmcli_metered(output: str) -> bool | None:
    """Parse ``nmcli -t -f GENERAL.METERED dev show`` output."""
    values = [line.partition(":")[2].strip().lower() for line in output.splitlines() if ":" in line]
    known = [v for v in values if v.startswith(("yes", "no"))]
    if not known:
        return None
    return any(v.startswith("yes") for v in known)


class DesktopNetworkMonitor(NetworkMonitor):
    """Metered if NetworkManager says so or the user's setting says so; polls both."""

    def __init__(
        self,
        data_dir: Path,
        *,
        poll_interval: float = 0.25,
        nm_interval: float = 5.0,
        nm_reader: Callable[[], bool | None] = read_networkmanager_metered,
    ) -> None:
        super().__init__()
        self.path = Path(data_dir) / NETWORK_FILE
        self.poll_interval = poll_interval
        self.nm_interval = nm_interval
        self.nm_reader = nm_reader
        self._nm: bool | None = None
        self._setting = self._read_setting()
        self._last = self.status()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _read_setting(self) -> bool:
        data = read_json(self.path, {})
        return bool(data.get("metered")) if isinstance(data, dict) else False

    @property
    def treat_as_metered(self) -> bool:
        return self._setting

    def status(self) -> NetworkStatus:
        if self._nm:
            return NetworkStatus(True, "networkmanager")
        return NetworkStatus(self._setting, "setting")

    has_metered_switch = True

    def set_treat_as_metered(self, value: bool) -> None:
        """Flip the emulated switch; persisted, and listeners hear of it at once."""
        write_json_atomic(self.path, {"metered": bool(value)})
        self.refresh()

    def refresh(self) -> None:
        """Re-read the setting (and NetworkManager); tell listeners if the answer changed."""
        with self._lock:
            self._setting = self._read_setting()
            status = self.status()
            changed = status.metered != self._last.metered
            self._last = status
        if changed:
            log.info("network is now %s (%s)", "metered" if status.metered else "Wi-Fi", status.source)
            self._emit(status)

    def start(self) -> None:
        if self._thread is None:
            self._nm = self.nm_reader()
            self.refresh()
            self._thread = threading.Thread(target=self._watch, name="network-monitor", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self) -> None:
        since_nm = 0.0
        while not self._stop.wait(self.poll_interval):
            since_nm += self.poll_interval
            if since_nm >= self.nm_interval:
                since_nm = 0.0
                self._nm = self.nm_reader()
            self.refresh()


class EmulatedInstaller(Installer):
    """An emulated phone's package manager: keeps packages and an installed-apps list on disk."""

    def __init__(self, data_dir: Path, platform: str):
        self.root = Path(data_dir) / "apps"
        self.list_path = Path(data_dir) / "installed.json"
        self.platform = platform
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        data = read_json(self.list_path, {})
        return data if isinstance(data, dict) else {}

    def installed(self, app_id: str) -> InstalledApp | None:
        with self._lock:
            entry = self._load().get(app_id)
        return InstalledApp(**entry) if entry else None

    def installed_apps(self) -> list[InstalledApp]:
        with self._lock:
            entries = self._load().values()
        return sorted((InstalledApp(**e) for e in entries), key=lambda a: (a.name or a.app_id).lower())

    def install(self, package: Path, app: InstallInfo, fmt: str, sha256: str | None) -> InstalledApp:
        if fmt not in formats_for(self.platform):
            raise InstallError(_("This device cannot install .{format} packages.").format(format=fmt))
        if not package.is_file() or package.stat().st_size == 0:
            raise InstallError(_("The downloaded package is missing or empty. Tap Retry to download it again."))
        target_dir = self.root / app.id
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{app.id}-{app.version or 'unknown'}.{fmt}"
        try:
            shutil.copyfile(package, target.with_suffix(target.suffix + ".tmp"))
            target.with_suffix(target.suffix + ".tmp").replace(target)
        except OSError as exc:
            log.warning("cannot store %s: %s", app.id, exc)
            raise InstallError(
                _("The app could not be stored on this device. Check that it has free space, then tap Retry.")
            ) from exc
        record = InstalledApp(
            app_id=app.id,
            name=app.name,
            version=app.version,
            version_code=app.version_code,
            installed_at=datetime.now(UTC).isoformat(),
            format=fmt,
            sha256=sha256,
            path=str(target),
        )
        with self._lock:
            apps = self._load()
            old = apps.get(app.id)
            apps[app.id] = record.to_dict()
            write_json_atomic(self.list_path, apps)
        if old and old.get("path") and old["path"] != str(target):
            Path(old["path"]).unlink(missing_ok=True)  # an update replaces the old package
        return record

    def uninstall(self, app_id: str) -> None:
        with self._lock:
            apps = self._load()
            entry = apps.pop(app_id, None)
            write_json_atomic(self.list_path, apps)
        if entry:
            shutil.rmtree(self.root / app_id, ignore_errors=True)


class LogNotifier(Notifier):
    """Logs notifications and keeps the last few for the app's banner."""

    def __init__(self, keep: int = 20):
        self.recent: deque[tuple[str, str]] = deque(maxlen=keep)

    def notify(self, title: str, message: str, *, key: str | None = None) -> None:
        log.info("notification: %s: %s", title, message)
        self.recent.append((title, message))
