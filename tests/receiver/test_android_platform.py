"""The Android device layer against a fake ``jnius`` module (no phone here).

These tests check the calls made to the Android APIs, not that Android accepts them:
the Android classes are marked untested on a device.
"""

from __future__ import annotations

import os
import sys
import types

import pytest

from mobile_receiver.platform import InstallError, choose
from shared.messages import InstallInfo


class JavaException(Exception):
    pass


class FakeAndroid:
    """Just enough of Android for the receiver's calls, recording them."""

    def __init__(self):
        self.not_metered = True
        self.active_network = object()
        self.packages = {"org.videolan.vlc": ("3.6.0", 13060000)}
        self.sessions = []
        self.notifications = []
        self.started = []
        self.detached = 0

    def module(self) -> types.ModuleType:
        android = self
        mod = types.ModuleType("jnius")
        mod.JavaException = JavaException

        def detach():
            android.detached += 1

        mod.detach = detach
        mod.autoclass = lambda name: android.classes()[name]
        return mod

    def classes(self):
        android = self

        class Capabilities:
            NET_CAPABILITY_NOT_METERED = 11

            def hasCapability(self, cap):
                assert cap == 11
                return android.not_metered

        class Connectivity:
            def getActiveNetwork(self):
                return android.active_network

            def getNetworkCapabilities(self, network):
                return Capabilities()

        class PackageInfo:
            def __init__(self, name, code):
                self.versionName, self._code = name, code

            def getLongVersionCode(self):
                return self._code

        class Stream:
            def __init__(self):
                self.data = bytearray()
                self.closed = False

            def write(self, block):
                self.data += block

            def close(self):
                self.closed = True

        class Session:
            def __init__(self):
                self.out = None
                self.committed = None
                self.synced = False

            def openWrite(self, name, offset, length):
                self.out = Stream()
                self.length = length
                return self.out

            def fsync(self, out):
                self.synced = True

            def commit(self, sender):
                self.committed = sender

            def close(self):
                pass

        class Installer:
            def createSession(self, params):
                android.sessions.append(Session())
                android.last_params = params
                return len(android.sessions)

            def openSession(self, session_id):
                return android.sessions[session_id - 1]

        class PackageManager:
            def getPackageInfo(self, app_id, flags):
                if app_id not in android.packages:
                    raise JavaException("NameNotFoundException")
                return PackageInfo(*android.packages[app_id])

            def getPackageInstaller(self):
                return Installer()

        class NotificationManager:
            IMPORTANCE_DEFAULT = 3

            def createNotificationChannel(self, channel):
                android.channel = channel

            def notify(self, ident, notification):
                android.notifications.append((ident, notification))

        class Activity:
            def getSystemService(self, name):
                return {"connectivity": Connectivity(), "notification": NotificationManager()}[name]

            def getPackageManager(self):
                return PackageManager()

            def startActivity(self, intent):
                android.started.append(intent)

            def getApplicationInfo(self):
                return types.SimpleNamespace(icon=42)

        class PythonActivity:
            mActivity = Activity()

        class Context:
            CONNECTIVITY_SERVICE = "connectivity"
            NOTIFICATION_SERVICE = "notification"

        class SessionParams:
            MODE_FULL_INSTALL = 1

            def __init__(self, mode):
                self.mode = mode

            def setAppPackageName(self, name):
                self.app = name

        class Intent:
            ACTION_DELETE = "android.intent.action.DELETE"

            def __init__(self, action, data=None):
                self.action, self.data = action, data

        class PendingIntent:
            FLAG_UPDATE_CURRENT = 1
            FLAG_MUTABLE = 2

            @staticmethod
            def getBroadcast(context, code, intent, flags):
                return types.SimpleNamespace(getIntentSender=lambda: ("sender", code, intent.action, flags))

        class Uri:
            @staticmethod
            def parse(text):
                return text

        class Builder:
            def __init__(self, context, channel):
                self.fields = {"channel": channel}

            def setContentTitle(self, t):
                self.fields["title"] = t

            def setContentText(self, t):
                self.fields["text"] = t

            def setSmallIcon(self, icon):
                self.fields["icon"] = icon

            def setAutoCancel(self, value):
                pass

            def build(self):
                return dict(self.fields)

        class NotificationChannel:
            def __init__(self, ident, name, importance):
                self.ident = ident

        return {
            "org.kivy.android.PythonActivity": PythonActivity,
            "android.content.Context": Context,
            "android.net.NetworkCapabilities": Capabilities,
            "android.content.pm.PackageInstaller$SessionParams": SessionParams,
            "android.content.Intent": Intent,
            "android.app.PendingIntent": PendingIntent,
            "android.net.Uri": Uri,
            "android.app.Notification$Builder": Builder,
            "android.app.NotificationChannel": NotificationChannel,
            "android.app.NotificationManager": NotificationManager,
        }


@pytest.fixture
def android(monkeypatch, tmp_path):
    fake = FakeAndroid()
    monkeypatch.setitem(sys.modules, "jnius", fake.module())
    monkeypatch.setenv("ANDROID_ARGUMENT", str(tmp_path))
    return fake


def test_choose_picks_android_inside_python_for_android(android, tmp_path):
    device = choose(tmp_path, "android")
    assert device.name == "android"
    assert type(device.network).__name__ == "AndroidNetworkMonitor"


def test_choose_picks_the_emulated_phone_elsewhere(tmp_path, monkeypatch):
    monkeypatch.delenv("ANDROID_ARGUMENT", raising=False)
    monkeypatch.delenv("ANDROID_PRIVATE", raising=False)
    assert choose(tmp_path, "android").name == "desktop"


def test_network_metered_from_capabilities_and_changes_reported(android, tmp_path):
    network = choose(tmp_path, "android").network
    assert network.is_metered() is False
    heard = []
    network.subscribe(lambda status: heard.append(status.metered))
    network._last = False
    android.not_metered = False
    network.poll()
    network.poll()  # no change, no second call
    assert network.is_metered() is True and heard == [True]
    android.active_network = None
    assert network.is_metered() is True  # no network at all counts as "do not download"


def test_network_watch_thread_stops_and_detaches(android, tmp_path):
    network = choose(tmp_path, "android").network
    network.poll_interval = 0.01
    network.start()
    network.stop()
    assert android.detached == 1


def test_installed_versions_come_from_package_manager(android, tmp_path):
    installer = choose(tmp_path, "android").installer
    vlc = installer.installed("org.videolan.vlc")
    assert (vlc.version, vlc.version_code) == ("3.6.0", 13060000)
    assert installer.installed("org.not.there") is None


def test_install_streams_the_apk_into_a_session_and_commits(android, tmp_path):
    installer = choose(tmp_path, "android").installer
    apk = tmp_path / "app.apk"
    body = os.urandom(600_000)
    apk.write_bytes(body)
    info = InstallInfo(id="org.example.app", name="Example", version="1.0", version_code=7)
    result = installer.install(apk, info, "apk", "ab" * 32)
    session = android.sessions[0]
    assert bytes(session.out.data) == body and session.out.closed and session.synced
    assert session.length == len(body)
    assert session.committed[0] == "sender"
    assert android.last_params.app == "org.example.app"
    assert result.version_code == 7
    android.packages["org.example.app"] = ("1.0", 7)  # what Android reports once the user confirmed
    assert [a.app_id for a in installer.installed_apps()] == ["org.example.app"]


def test_install_refuses_other_formats(android, tmp_path):
    installer = choose(tmp_path, "android").installer
    with pytest.raises(InstallError, match="apk"):
        installer.install(tmp_path / "x.ipa", InstallInfo(id="a.b"), "ipa", None)


def test_uninstall_asks_android(android, tmp_path):
    choose(tmp_path, "android").installer.uninstall("org.videolan.vlc")
    assert android.started[0].action == "android.intent.action.DELETE"
    assert android.started[0].data == "package:org.videolan.vlc"


def test_notification_is_posted_on_the_channel(android, tmp_path):
    notifier = choose(tmp_path, "android").notifier
    notifier.notify("Appbeam", "VLC installed", key="p1")
    notifier.notify("Appbeam", "F-Droid installed", key="p2")
    assert [n[1]["text"] for n in android.notifications] == ["VLC installed", "F-Droid installed"]
    assert android.notifications[0][1]["channel"] == "appbeam_pushes"
    assert android.notifications[0][0] != android.notifications[1][0]


def test_android_has_no_metered_switch_and_says_so(android, tmp_path):
    network = choose(tmp_path, "android").network
    assert network.has_metered_switch is False  # Settings disables the switch
    with pytest.raises(NotImplementedError, match="from the system"):
        network.set_treat_as_metered(True)
    assert choose(tmp_path, "android").network.is_metered() is False
