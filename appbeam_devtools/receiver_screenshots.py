"""Render the receiver's screens to PNG files from made-up pushes (no relay needed).

    python -m appbeam_devtools.receiver_screenshots OUTDIR
    python -m appbeam_devtools.receiver_screenshots OUTDIR --outage [--size 900x600] [--scale 1.5] [--name NAME]
    python -m appbeam_devtools.receiver_screenshots OUTDIR --lang zh_CN [--size 360x640] [--scale 1.5]

Writes ``receiver-inbox.png`` (the app-message page mid-download), ``receiver-metered.png``
(the mobile-data question), ``receiver-settings.png``, ``receiver-trust.png`` (the computers
that can install apps here), ``receiver-devices.png`` (this account's devices),
``receiver-remove-phone.png`` (Remove on this phone asks first),
``receiver-download-again.png`` (cards after Download again), ``receiver-login.png``,
``receiver-removed.png`` (the first screen after this phone was removed from its account) and
``receiver-pairing.png`` (Pair with a computer); ``--suffix=-900x600`` adds ``-900x600`` to each
name (written with ``=``: argparse reads a separate ``-900x600`` as a flag). With ``--outage``:
only the app-message page while the relay is away (``receiver-outage.png``): a download waiting
for the relay, one waiting for its server, a failure, long names; every sentence made the way
the running app makes it (``shared.explain``, ``mobile_receiver.failures``).
``--size`` sets the window (default 420x860, a phone) and ``--scale`` Kivy's density (1.5 is a
"1.5x" screen: everything 50% larger), to check that long text wraps and nothing is cut off.
``--lang zh_CN`` renders every screen in Simplified Chinese and adds ``-zh_CN`` to each name
(``receiver-inbox-zh_CN.png``); the default is English whatever the system's language.

Long because each picture sets up its own scene (records, relay, dialogs) in plain steps.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

from mobile_receiver.cli import window_size
from mobile_receiver.devices import removed_sentence
from mobile_receiver.i18n import N_
from mobile_receiver.said import Said, say
from shared.assets import real_path

# The demo store's icons: the made-up pushes are for its apps.
ICONS = real_path(files("relay_server") / "static" / "icons")


def _ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def _kept(said: Said) -> dict:
    """A line kept on a push the way the receiver keeps it: English, and the template to say it again."""
    return {"notice": said.english(), "notice_said": said.to_dict()}


def _push(push_id, app_id, name, version, size, minutes, state, *, mode="install_now", **extra) -> dict:
    record = {
        "push_id": push_id,
        "mode": mode,
        "sender": {"username": "anna", "device_id": "anna-laptop", "device_name": "Anna's laptop"},
        "app": {
            "id": app_id,
            "name": name,
            "version": version,
            "size": size,
            "icon_url": f"/static/icons/{app_id}.png",
            "packages": [],
        },
        "package": {"format": "apk", "url": f"/api/v1/packages/{'0' * 64}", "sha256": None, "size": size},
        "created_at": _ago(minutes),
        "received_at": _ago(minutes),
        "state": state,
    }
    record.update(extra)
    return record


FAKE_PUSHES = [
    _push(
        "p-term",
        "com.termux",
        "Termux",
        "0.118.0",
        1_245_267,
        300,
        "failed",
        bytes_done=0,
        detail="The package is no longer on the server at f-droid.org (HTTP 404).",
        notice="The package is no longer on the server at f-droid.org (HTTP 404).",
    ),
    _push(
        "p-pipe",
        "org.schabi.newpipe",
        "NewPipe",
        "0.27.2",
        11_560_494,
        90,
        "installed",
        bytes_done=11_560_494,
        **_kept(say(N_("Version {version} installed"), version="0.27.2")),
    ),
    _push(
        "p-signal", "org.thoughtcrime.securesms", "Signal", "7.20.3", 61_120_945, 12, "paused", bytes_done=17_900_000
    ),
    _push(
        "p-fdroid",
        "org.fdroid.fdroid",
        "F-Droid",
        "1.20.0",
        12_574_147,
        3,
        "delivered",
        mode="notify",
        prompt="download",
    ),
    _push("p-vlc", "org.videolan.vlc", "VLC", "3.6.0", 41_234_567, 0.2, "downloading", bytes_done=17_318_518),
]


#: What the relay says of every device besides these (``shared.api_messages.Device``).
_LISTED = {"owner": "anna", "last_seen": None, "formats": ["apk"], "public_key": None, "fingerprint": None}
_LISTED |= {"compatible": True, "reason": None}

#: The account's devices as the relay lists them (Settings, Your devices): a long name too.
FAKE_DEVICES = [
    {
        "id": "anna-laptop",
        "name": "Anna's laptop",
        "model": "ThinkPad X1",
        "platform": "linux",
        "relation": "self",
        "online": True,
    },
    {
        "id": "anna-tablet",
        "name": "Anna's old Samsung Galaxy Tab S6 Lite (kitchen, recipes only)",
        "model": "SM-P610",
        "platform": "android",
        "relation": "self",
        "online": False,
        "last_seen": _ago(60 * 30),
    },
    {
        "id": "kim-phone",
        "name": "Kim's phone",
        "model": "Fairphone 5",
        "platform": "android",
        "relation": "friend",
        "online": True,
    },
]


OUTAGE_PUSHES = [
    _push(
        "p-pipe",
        "org.schabi.newpipe",
        "NewPipe",
        "0.27.2",
        11_560_494,
        90,
        "installed",
        bytes_done=11_560_494,
        **_kept(say(N_("Version {version} installed"), version="0.27.2")),
    ),
    _push(
        "p-signal",
        "org.thoughtcrime.securesms",
        "Signal",
        "7.20.3",
        61_120_945,
        12,
        "waiting_for_wifi",
        bytes_done=17_900_000,
        **_kept(say(N_("Paused: the connection is metered. Resumes on Wi-Fi."))),
    ),
    _push("p-term", "com.termux", "Termux", "0.118.0", 1_245_267, 8, "failed", bytes_done=0),
    _push(
        "p-maps",
        "app.organicmaps",
        "Organic Maps: Hike, Bike, Drive Offline",
        "2024.03.18-5",
        48_912_001,
        3,
        "downloading",
        bytes_done=20_114_000,
    ),
    _push("p-vlc", "org.videolan.vlc", "VLC", "3.6.0", 41_234_567, 0.5, "downloading", bytes_done=17_318_518),
]


def prepare(data_dir: Path, pushes: list[dict] | None = None, language: str = "en"):
    """A logged-in receiver profile over ``data_dir`` holding the made-up pushes, speaking
    ``language``; not started."""
    from mobile_receiver.profile import Profile, ProfileStore
    from mobile_receiver.storage import ReceiverDB, write_json_atomic

    ProfileStore(data_dir).save(
        Profile(
            device_id="anna-pixel",
            device_name="Anna's Pixel",
            model="Pixel 8",
            platform="android",
            relay_url="http://127.0.0.1:8765",
            username="anna",
            token="demo",
            language=language,
        )
    )
    write_json_atomic(data_dir / "network.json", {"metered": False})
    write_json_atomic(
        data_dir / "installed.json",
        {
            "org.schabi.newpipe": {
                "app_id": "org.schabi.newpipe",
                "name": "NewPipe",
                "version": "0.27.2",
                "version_code": 1002,
                "installed_at": _ago(88),
                "format": "apk",
            },
            "org.wikipedia": {
                "app_id": "org.wikipedia",
                "name": "Wikipedia",
                "version": "2.7.50497",
                "version_code": 50497,
                "installed_at": _ago(3000),
                "format": "apk",
            },
        },
    )
    from shared.signing import DeviceKey

    def key(device_id, name, platform, trusted, **extra):
        return {
            "device_id": device_id,
            "name": name,
            "public_key": DeviceKey.generate().public_key,
            "trusted": trusted,
            "first_seen": _ago(600),
            "platform": platform,
            **extra,
        }

    write_json_atomic(
        data_dir / "trusted_keys.json",
        {  # a phone of the account is not listed: it never sends
            "initialized": True,
            "account": "anna@http://127.0.0.1:8765",
            "keys": [
                key("anna-laptop", "Anna's laptop", "linux", True),
                key("anna-ipad", "Anna's iPad", "ios", True),
                key("anna-work", "Anna's work desktop", "windows", False),
            ],
        },
    )
    pushes = FAKE_PUSHES if pushes is None else pushes
    db = ReceiverDB(data_dir / "receiver.sqlite3")
    for record in pushes:
        db.save_push(record["push_id"], record)
    db.close()
    icons = data_dir / "icons"
    icons.mkdir(exist_ok=True)
    for record in pushes:
        source = ICONS / f"{record['app']['id']}.png"
        if source.exists() and record["push_id"] != "p-fdroid":  # one placeholder, to show it too
            shutil.copy(source, icons / source.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m appbeam_devtools.receiver_screenshots",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("outdir")
    parser.add_argument("--outage", action="store_true", help="only the app-message page while the relay is away")
    parser.add_argument(
        "--size", type=window_size, default="420x860", metavar="WIDTHxHEIGHT", help="window in pixels (default 420x860)"
    )
    parser.add_argument("--scale", type=float, help="screen density, e.g. 1.5 (KIVY_METRICS_DENSITY)")
    parser.add_argument("--name", help="file name of the outage picture (default receiver-outage.png)")
    parser.add_argument("--suffix", default="", help="added to every other file name, e.g. --suffix=-900x600")
    parser.add_argument("--lang", default="en", choices=("en", "zh_CN"), help="the screens' language (default en)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.lang != "en":
        args.suffix = f"-{args.lang}{args.suffix}"
        args.name = args.name or f"receiver-outage{args.suffix}.png"
    out = Path(args.outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.scale:  # read by Kivy when it is first imported, below
        os.environ["KIVY_METRICS_DENSITY"] = str(args.scale)
    with tempfile.TemporaryDirectory(prefix="appbeam-shots-") as tmp:
        data_dir = Path(tmp) / "receiver"
        data_dir.mkdir()
        prepare(data_dir, OUTAGE_PUSHES if args.outage else None, args.lang)
        from mobile_receiver import i18n

        i18n.set_language(args.lang)  # as `appbeam receiver` does first: the sentences made below speak it
        from mobile_receiver.ui import prepare_kivy

        prepare_kivy(args.size)
        os.environ.setdefault("KIVY_HOME", str(Path(tmp) / "kivy"))
        if args.outage:
            return _outage(data_dir, out / (args.name or "receiver-outage.png"))
        from kivy.clock import Clock

        from mobile_receiver.service import Connection, ReceiverService
        from mobile_receiver.ui.app import ReceiverApp
        from shared.api_messages import Device, Friend
        from shared.messages import read

        service = ReceiverService(data_dir)
        service.connection = Connection("connected")
        vlc = service.inbox.get("p-vlc")
        vlc.speed, vlc.eta = 2_150_000, 11.1
        # People as the relay would list them (the pictures need no relay)
        service.client.friends = lambda: [
            Friend(username="sam", status="pending_incoming"),
            Friend(username="kim", status="accepted"),
        ]
        service.client.devices = lambda *a, **kw: [read({**_LISTED, **d}, Device) for d in FAKE_DEVICES]
        app = ReceiverApp(service, start_service=False)
        sfx = args.suffix
        steps = [
            lambda: app.take_screenshot(str(out / f"receiver-inbox{sfx}.png")),
            lambda: _ask_metered(service, app),
            lambda: app.take_screenshot(str(out / f"receiver-metered{sfx}.png")),
            lambda: (app.inbox_screen.dialog.dismiss(), app.show_settings()),
            lambda: app.take_screenshot(str(out / f"receiver-settings{sfx}.png")),
            lambda: app.settings_screen.ids.key_rows.parent.parent.scroll_to(app.settings_screen.ids.key_rows),
            lambda: app.take_screenshot(str(out / f"receiver-trust{sfx}.png")),
            lambda: app.settings_screen.ids.devices.parent.parent.scroll_to(
                app.settings_screen.ids.devices, padding=60, animate=False
            ),
            lambda: app.take_screenshot(str(out / f"receiver-devices{sfx}.png")),
            lambda: app.settings_screen.ask_remove("anna-pixel", "Anna's Pixel", True),
            lambda: app.take_screenshot(str(out / f"receiver-remove-phone{sfx}.png")),
            lambda: _close_dialogs(),
            lambda: (app.show_inbox(), _download_again(service, app)),
            lambda: app.take_screenshot(str(out / f"receiver-download-again{sfx}.png")),
            lambda: app.manager.__setattr__("current", "login"),
            lambda: app.take_screenshot(str(out / f"receiver-login{sfx}.png")),
            lambda: app.signed_out(removed_sentence("anna", service.profile.relay_url)),
            lambda: app.take_screenshot(str(out / f"receiver-removed{sfx}.png")),
            lambda: app.login_screen.__setattr__("notice", ""),
            lambda: _pairing(app),
            lambda: app.take_screenshot(str(out / f"receiver-pairing{sfx}.png")),
            lambda: app.stop(),
        ]

        def run_step(i):
            steps[i]()
            if i + 1 < len(steps):
                Clock.schedule_once(lambda dt: run_step(i + 1), 0.8)

        Clock.schedule_once(lambda dt: run_step(0), 1.5)
        app.run()
        service.db.close()
    for name in (
        "inbox",
        "metered",
        "settings",
        "trust",
        "devices",
        "remove-phone",
        "download-again",
        "login",
        "removed",
        "pairing",
    ):
        print(out / f"receiver-{name}{args.suffix}.png")
    return 0


def _close_dialogs() -> None:
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    for child in list(Window.children):
        if isinstance(child, ModalView):
            child.dismiss(animation=False)


def _download_again(service, app) -> None:
    """Download again, twice: VLC back on its way after a cancel by mistake, and F-Droid, dismissed
    long ago, whose package the relay has let go since (the sentence made as the app makes it)."""
    from mobile_receiver import failures
    from mobile_receiver.failures import Where

    service.inbox.get("p-vlc").reopened = True
    fdroid = service.inbox.get("p-fdroid")
    fdroid.state, fdroid.prompt, fdroid.reopened, fdroid.package_gone, fdroid.bytes_done = (
        "declined",
        None,
        True,
        True,
        0,
    )
    fdroid.detail = fdroid.notice = failures.package_gone_after_decline(
        Where(service.profile.relay_url + "/api/v1/packages/" + "0" * 64, service.profile.relay_url)
    ).sentence
    app.inbox_screen.refresh_all()
    app.inbox_screen.ids.scroll.scroll_y = 1


def _pairing(app) -> None:
    """Pair with a computer, a code half typed, and what the relay said about an old one."""
    app.show_pairing()
    screen = app.pairing_screen
    screen.ids.code.text = "7KQM-X4"
    screen.ids.relay.text = "http://192.168.1.10:8765"
    screen.ids.device_name.text = "Anna's Pixel"
    # the relay's refusal, written in the phone's language (its client asks for it), as the screen shows it
    from mobile_receiver.i18n import language
    from relay_server.i18n.errors import in_language
    from shared.explain import explain, relay_place
    from shared.relay_errors import RelayError

    said = in_language("this pairing code has expired; make a new one on your computer", language())
    screen.error = explain(RelayError(410, "code_expired", said), place=relay_place(screen.ids.relay.text)).text


def _ask_metered(service, app) -> None:
    """A new install-now push arrives on mobile data: the question pops up."""
    from mobile_receiver.record import PROMPT_METERED

    rec = service.inbox.get("p-fdroid")
    rec.prompt, rec.notice = PROMPT_METERED, "Will use 12.6 MB of mobile data"
    app.inbox_screen.refresh_all()


def _outage(data_dir: Path, target: Path) -> int:
    """The app-message page while the relay is away, with every sentence made as the app makes it."""
    import requests
    from kivy.clock import Clock

    from mobile_receiver import failures
    from mobile_receiver.download import DownloadError
    from mobile_receiver.failures import Where
    from mobile_receiver.service import Connection, ReceiverService
    from mobile_receiver.ui.app import ReceiverApp
    from shared.explain import explain, relay_place
    from shared.relay_errors import RelayUnavailable

    relay = "https://relay.example.org:8765/"
    refused = _raised(RelayUnavailable("cannot reach the relay"), ConnectionRefusedError(111, "Connection refused"))
    service = ReceiverService(data_dir)
    service.profile.device_name = "Anna's Pixel 8 Pro (work profile)"
    service.connection = Connection(
        "reconnecting", time.monotonic() + 2.4, explanation=explain(refused, place=relay_place(relay)).text
    )

    def waiting(push_id: str, error: BaseException, url: str, relay_up: bool, retry_in: float) -> None:
        rec = service.inbox.get(push_id)
        failure = failures.download_failure(
            DownloadError("", transient=True, cause=error), Where(url, relay, relay_connected=relay_up)
        )
        rec.waiting, rec.notice, rec.retry_at = str(failure.situation), failure.sentence, time.time() + retry_in

    waiting("p-vlc", refused, relay + "api/v1/packages/" + "0" * 64, False, 3.4)
    timeout = _raised(requests.ConnectionError("read timed out"), TimeoutError("timed out"))
    waiting("p-maps", timeout, "https://cdn.organicmaps.example/apk/organicmaps-2024.apk", True, 7.4)
    gone = requests.Response()
    gone.status_code = 410
    term = service.inbox.get("p-term")
    failure = failures.download_failure(
        DownloadError("", status=410, cause=requests.HTTPError(response=gone)),
        Where("https://f-droid.example.org/repo/com.termux_118.apk", relay),
    )
    term.detail = term.notice = failure.sentence
    app = ReceiverApp(service, start_service=False)

    def shoot(dt):
        app.take_screenshot(str(target))
        app.stop()

    Clock.schedule_once(shoot, 2.0)
    app.run()
    service.db.close()
    print(target)
    return 0


def _raised(error: BaseException, cause: BaseException) -> BaseException:
    """``error`` as if raised ``from cause`` (what the app sees)."""
    try:
        raise error from cause
    except BaseException as exc:  # noqa: BLE001
        return exc


if __name__ == "__main__":
    sys.exit(main())
