"""Render the receiver's screens to PNG files from made-up pushes (no relay needed).

    python -m mobile_receiver.screenshots OUTDIR

Writes ``receiver-inbox.png`` (the app-message page mid-download), ``receiver-metered.png``
(the mobile-data question), ``receiver-settings.png`` and ``receiver-login.png``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "assets" / "icons"


def _ago(minutes: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(minutes=minutes)).isoformat()


def _push(push_id, app_id, name, version, size, minutes, state, *, mode="install_now", **extra) -> dict:
    record = {
        "push_id": push_id,
        "mode": mode,
        "sender": {"username": "anna", "device_id": "anna-laptop", "device_name": "Anna's laptop"},
        "app": {"id": app_id, "name": name, "version": version, "size": size, "icon_url": f"/static/icons/{app_id}.png",
                "packages": []},
        "package": {"format": "apk", "url": f"/api/v1/packages/{'0' * 64}", "sha256": None, "size": size},
        "created_at": _ago(minutes),
        "received_at": _ago(minutes),
        "state": state,
    }
    record.update(extra)
    return record


FAKE_PUSHES = [
    _push("p-term", "com.termux", "Termux", "0.118.0", 1_245_267, 300, "failed", bytes_done=300_000,
          detail="the connection dropped"),
    _push("p-pipe", "org.schabi.newpipe", "NewPipe", "0.27.2", 11_560_494, 90, "installed",
          bytes_done=11_560_494, notice="Version 0.27.2 installed"),
    _push("p-signal", "org.thoughtcrime.securesms", "Signal", "7.20.3", 61_120_945, 12, "paused", bytes_done=17_900_000),
    _push("p-fdroid", "org.fdroid.fdroid", "F-Droid", "1.20.0", 12_574_147, 3, "delivered", mode="notify",
          prompt="download"),
    _push("p-vlc", "org.videolan.vlc", "VLC", "3.6.0", 41_234_567, 0.2, "downloading", bytes_done=17_318_518),
]


def prepare(data_dir: Path):
    """A logged-in receiver profile over ``data_dir`` holding the made-up pushes; not started."""
    from mobile_receiver.profile import Profile, ProfileStore
    from mobile_receiver.storage import ReceiverDB, write_json_atomic

    ProfileStore(data_dir).save(
        Profile(device_id="anna-pixel", device_name="Anna's Pixel", model="Pixel 8", platform="android",
                relay_url="http://127.0.0.1:8765", username="anna", token="demo")
    )
    write_json_atomic(data_dir / "network.json", {"metered": False})
    write_json_atomic(data_dir / "installed.json", {
        "org.schabi.newpipe": {"app_id": "org.schabi.newpipe", "name": "NewPipe", "version": "0.27.2",
                               "version_code": 1002, "installed_at": _ago(88), "format": "apk"},
        "org.wikipedia": {"app_id": "org.wikipedia", "name": "Wikipedia", "version": "2.7.50497",
                          "version_code": 50497, "installed_at": _ago(3000), "format": "apk"},
    })
    db = ReceiverDB(data_dir / "receiver.sqlite3")
    for record in FAKE_PUSHES:
        db.save_push(record["push_id"], record)
    db.close()
    icons = data_dir / "icons"
    icons.mkdir(exist_ok=True)
    for record in FAKE_PUSHES:
        source = ICONS / f"{record['app']['id']}.png"
        if source.exists() and record["push_id"] != "p-fdroid":  # one placeholder, to show it too
            shutil.copy(source, icons / source.name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="appbeam-shots-") as tmp:
        data_dir = Path(tmp) / "receiver"
        data_dir.mkdir()
        prepare(data_dir)
        from mobile_receiver.ui import prepare_kivy

        prepare_kivy((420, 860))
        import os

        os.environ.setdefault("KIVY_HOME", str(Path(tmp) / "kivy"))
        from kivy.clock import Clock

        from mobile_receiver.service import Connection, ReceiverService
        from mobile_receiver.ui.app import ReceiverApp

        service = ReceiverService(data_dir)
        service.connection = Connection("connected")
        vlc = service.inbox.get("p-vlc")
        vlc.speed, vlc.eta = 2_150_000, 11.1
        app = ReceiverApp(service, start_service=False)
        steps = [
            lambda: app.take_screenshot(str(out / "receiver-inbox.png")),
            lambda: _ask_metered(service, app),
            lambda: app.take_screenshot(str(out / "receiver-metered.png")),
            lambda: (app.inbox_screen.dialog.dismiss(), app.show_settings()),
            lambda: app.take_screenshot(str(out / "receiver-settings.png")),
            lambda: app.manager.__setattr__("current", "login"),
            lambda: app.take_screenshot(str(out / "receiver-login.png")),
            lambda: app.stop(),
        ]

        def run_step(i):
            steps[i]()
            if i + 1 < len(steps):
                Clock.schedule_once(lambda dt: run_step(i + 1), 0.8)

        Clock.schedule_once(lambda dt: run_step(0), 1.5)
        app.run()
        service.db.close()
    for name in ("inbox", "metered", "settings", "login"):
        print(out / f"receiver-{name}.png")
    return 0


def _ask_metered(service, app) -> None:
    """A new install-now push arrives on mobile data: the question pops up."""
    from mobile_receiver.record import PROMPT_METERED

    rec = service.inbox.get("p-fdroid")
    rec.prompt, rec.notice = PROMPT_METERED, "Will use 12.6 MB of mobile data"
    app.inbox_screen.refresh_all()


if __name__ == "__main__":
    sys.exit(main())
