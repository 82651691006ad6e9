"""Android implementations of the device layer, through pyjnius.

UNTESTED ON A DEVICE. These classes have only been exercised against a fake ``jnius``
module in the unit tests (``tests/receiver/test_android_platform.py``), which checks the
calls they make to the Android APIs, not that Android accepts them. Before shipping:
run the buildozer build on a phone, push an app install-now and notify, toggle mobile
data, and watch ``adb logcat``.

- Network: ``ConnectivityManager.getNetworkCapabilities(activeNetwork)`` and
  ``NET_CAPABILITY_NOT_METERED`` (API 23+), polled, because registering a
  ``NetworkCallback`` needs a Java subclass that pyjnius can only provide via
  ``PythonJavaClass`` (a possible improvement).
- Installer: ``PackageInstaller`` sessions (API 21+): create a session, stream the APK
  into it, commit with a ``PendingIntent``; Android then asks the user to confirm
  (``REQUEST_INSTALL_PACKAGES`` permission). Which apps are installed, and at what
  version, comes from ``PackageManager.getPackageInfo``.
- Notifications: ``Notification.Builder`` on a channel (API 26+).
- QR codes (pairing): a STUB. It asks a barcode scanner app for a scan with the ZXing
  ``SCAN`` intent and reads ``SCAN_RESULT`` back in ``onActivityResult``; a phone without such
  an app gets ``on_result(None)``. Never run on a device; a built-in scanner (CameraX with
  ML Kit or zxing-cpp on the frames) is the proper job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
    QrScanner,
)
from shared.messages import InstallInfo

log = logging.getLogger(__name__)

NOTIFICATION_CHANNEL = "appbeam_pushes"
INSTALL_ACTION = "org.appbeam.receiver.INSTALL_RESULT"


def _jnius() -> Any:
    import jnius  # imported lazily: only present inside a python-for-android build

    return jnius


def _activity() -> Any:
    jnius = _jnius()
    return jnius.autoclass("org.kivy.android.PythonActivity").mActivity


class AndroidNetworkMonitor(NetworkMonitor):
    """Metered or not, from ConnectivityManager; polls and tells listeners of changes."""

    def __init__(self, poll_interval: float = 2.0):
        super().__init__()
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple[bool, bool] | None = None

    def _manager(self) -> Any:
        jnius = _jnius()
        context = jnius.autoclass("android.content.Context")
        return _activity().getSystemService(context.CONNECTIVITY_SERVICE)

    def status(self) -> NetworkStatus:
        jnius = _jnius()
        capabilities_class = jnius.autoclass("android.net.NetworkCapabilities")
        manager = self._manager()
        network = manager.getActiveNetwork()
        if network is None:  # no network: nothing may download anyway
            return NetworkStatus(True, "android", connected=False)
        capabilities = manager.getNetworkCapabilities(network)
        if capabilities is None:
            return NetworkStatus(True, "android", connected=False)
        not_metered = capabilities.hasCapability(capabilities_class.NET_CAPABILITY_NOT_METERED)
        return NetworkStatus(not not_metered, "android")

    def start(self) -> None:
        if self._thread is None:
            status = self.status()
            self._last = (status.metered, status.connected)
            self._thread = threading.Thread(target=self._watch, name="android-network", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def poll(self) -> None:
        """Check once; tell listeners if the metered flag or the connectivity changed."""
        status = self.status()
        now = (status.metered, status.connected)
        if now != self._last:
            self._last = now
            self._emit(status)

    def _watch(self) -> None:
        jnius = _jnius()
        try:
            while not self._stop.wait(self.poll_interval):
                try:
                    self.poll()
                except Exception:  # noqa: BLE001 - a Java exception must not end the watch
                    log.exception("reading the network state failed")
        finally:
            jnius.detach()  # threads that touched Java must detach before they end


class AndroidInstaller(Installer):
    """Installs APKs with a PackageInstaller session; reads versions from PackageManager."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)

    def installed(self, app_id: str) -> InstalledApp | None:
        jnius = _jnius()
        manager = _activity().getPackageManager()
        try:
            info = manager.getPackageInfo(app_id, 0)
        except jnius.JavaException:
            return None  # NameNotFoundException: not installed
        code = info.getLongVersionCode() if hasattr(info, "getLongVersionCode") else info.versionCode
        return InstalledApp(app_id=app_id, name=None, version=info.versionName, version_code=int(code), format="apk")

    def installed_apps(self) -> list[InstalledApp]:
        # Android lists every package on the phone; show the ones Appbeam installed.
        return [app for app in (self.installed(a) for a in self._ours()) if app is not None]

    def _ours(self) -> list[str]:
        path = self.data_dir / "installed_by_appbeam.txt"
        return path.read_text().split() if path.exists() else []

    def install(self, package: Path, app: InstallInfo, fmt: str, sha256: str | None) -> InstalledApp:
        if fmt != "apk":
            raise InstallError(_("Android installs .apk packages, not .{format} packages.").format(format=fmt))
        jnius = _jnius()
        activity = _activity()
        params_class = jnius.autoclass("android.content.pm.PackageInstaller$SessionParams")
        intent_class = jnius.autoclass("android.content.Intent")
        pending_class = jnius.autoclass("android.app.PendingIntent")
        installer = activity.getPackageManager().getPackageInstaller()
        params = params_class(params_class.MODE_FULL_INSTALL)
        params.setAppPackageName(app.id)
        try:
            session_id = installer.createSession(params)
            session = installer.openSession(session_id)
            out = session.openWrite("appbeam", 0, package.stat().st_size)
            with open(package, "rb") as source:
                while True:
                    block = source.read(256 * 1024)
                    if not block:
                        break
                    out.write(block)  # pyjnius turns bytes into byte[]
            session.fsync(out)
            out.close()
            intent = intent_class(INSTALL_ACTION)
            flags = pending_class.FLAG_UPDATE_CURRENT | pending_class.FLAG_MUTABLE
            pending = pending_class.getBroadcast(activity, session_id, intent, flags)
            session.commit(pending.getIntentSender())
            session.close()
        except jnius.JavaException as exc:
            log.warning("PackageInstaller refused %s: %s", app.id, exc)
            raise InstallError(_("Android refused to install the package. The details are in the log.")) from exc
        # The commit is asynchronous (the user confirms); record the app as handed over.
        path = self.data_dir / "installed_by_appbeam.txt"
        ours = set(self._ours()) | {app.id}
        path.write_text("\n".join(sorted(ours)))
        return InstalledApp(
            app_id=app.id, name=app.name, version=app.version, version_code=app.version_code, format=fmt, sha256=sha256
        )

    def uninstall(self, app_id: str) -> None:
        jnius = _jnius()
        intent_class = jnius.autoclass("android.content.Intent")
        uri_class = jnius.autoclass("android.net.Uri")
        intent = intent_class(intent_class.ACTION_DELETE, uri_class.parse(f"package:{app_id}"))
        _activity().startActivity(intent)  # Android asks the user to confirm


class AndroidNotifier(Notifier):
    """System notifications on the "App pushes" channel."""

    def __init__(self) -> None:
        self._channel_ready = False

    def _ensure_channel(self, manager: Any) -> None:
        if self._channel_ready:
            return
        jnius = _jnius()
        channel_class = jnius.autoclass("android.app.NotificationChannel")
        manager_class = jnius.autoclass("android.app.NotificationManager")
        channel = channel_class(NOTIFICATION_CHANNEL, _("App pushes"), manager_class.IMPORTANCE_DEFAULT)
        manager.createNotificationChannel(channel)
        self._channel_ready = True

    def notify(self, title: str, message: str, *, key: str | None = None) -> None:
        jnius = _jnius()
        activity = _activity()
        context_class = jnius.autoclass("android.content.Context")
        builder_class = jnius.autoclass("android.app.Notification$Builder")
        manager = activity.getSystemService(context_class.NOTIFICATION_SERVICE)
        self._ensure_channel(manager)
        builder = builder_class(activity, NOTIFICATION_CHANNEL)
        builder.setContentTitle(title)
        builder.setContentText(message)
        builder.setSmallIcon(activity.getApplicationInfo().icon)
        builder.setAutoCancel(True)
        manager.notify(abs(hash(key or message)) % (2**31), builder.build())


SCAN_ACTION = "com.google.zxing.client.android.SCAN"
SCAN_REQUEST = 0x0A8B  # our request code for onActivityResult
RESULT_OK = -1  # Activity.RESULT_OK


def _activity_events() -> Any:
    from android import activity  # noqa: PLC0415 - python-for-android's module, only on a phone

    return activity


class AndroidQrScanner(QrScanner):
    """UNTESTED ON A DEVICE (a stub, see the module's docstring): a QR scan through a barcode
    scanner app's ``SCAN`` intent; only run against fake ``jnius`` and ``android`` modules."""

    def __init__(self) -> None:
        self._pending: Callable[[str | None], None] | None = None
        self._bound = False

    def scan(self, on_result: Callable[[str | None], None]) -> None:
        jnius = _jnius()
        intent_class = jnius.autoclass("android.content.Intent")
        intent = intent_class(SCAN_ACTION)
        intent.putExtra("SCAN_MODE", "QR_CODE_MODE")
        if not self._bound:
            _activity_events().bind(on_activity_result=self._on_activity_result)
            self._bound = True
        self._pending = on_result
        try:
            _activity().startActivityForResult(intent, SCAN_REQUEST)
        except jnius.JavaException as exc:  # no scanner app: ActivityNotFoundException
            log.warning("no app can scan a QR code here: %s", exc)
            self._pending = None
            on_result(None)

    def _on_activity_result(self, request_code: int, result_code: int, intent: Any) -> None:
        if request_code != SCAN_REQUEST or self._pending is None:
            return
        on_result, self._pending = self._pending, None
        text = intent.getStringExtra("SCAN_RESULT") if result_code == RESULT_OK and intent is not None else None
        on_result(text or None)
