"""The device layer, chosen once at start-up: Android (pyjnius) on a phone, an emulated phone elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

from mobile_receiver.platform.base import (
    DevicePlatform,
    InstalledApp,
    Installer,
    InstallError,
    NetworkMonitor,
    NetworkStatus,
    Notifier,
    QrScanner,
)

__all__ = [
    "DevicePlatform",
    "InstalledApp",
    "InstallError",
    "Installer",
    "NetworkMonitor",
    "NetworkStatus",
    "Notifier",
    "QrScanner",
    "choose",
    "running_on_android",
]


def running_on_android() -> bool:
    """True inside a python-for-android build (the same test Kivy's ``platform`` uses)."""
    return "ANDROID_ARGUMENT" in os.environ or "ANDROID_PRIVATE" in os.environ


def choose(data_dir: Path, platform: str) -> DevicePlatform:
    """The facades for this device; imports only the implementation it needs."""
    if running_on_android():
        from mobile_receiver.platform import android

        return DevicePlatform(
            network=android.AndroidNetworkMonitor(),
            installer=android.AndroidInstaller(Path(data_dir)),
            notifier=android.AndroidNotifier(),
            name="android",
            scanner=android.AndroidQrScanner(),
        )
    from mobile_receiver.platform import desktop

    return DevicePlatform(
        network=desktop.DesktopNetworkMonitor(Path(data_dir)),
        installer=desktop.EmulatedInstaller(Path(data_dir), platform),
        notifier=desktop.LogNotifier(),
        name="desktop",
    )
