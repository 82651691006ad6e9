"""``appbeam receiver``: flags, and start-up of the phone app (window or headless).

Imports nothing heavy at module level: ``appbeam_devtools.cli`` imports this module to build the
parser of every subcommand, and ``appbeam relay`` must not pay for Kivy.

Non-interactive start (the demo)::

    appbeam receiver --profile phone1 --relay http://127.0.0.1:8765 --username anna \\
        --password secret123 --device-name "Anna's Pixel" --platform android --model "Pixel 8" --headless

Flip the emulated network of a running receiver from outside::

    appbeam receiver --profile phone1 --set-network metered   # or: wifi
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Kivy-free, but heavy: imported for real only when the receiver runs
    from mobile_receiver.service import ReceiverService

log = logging.getLogger(__name__)

PLATFORMS = ("android", "ios", "symbian", "windows_phone", "linux", "windows", "macos")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The receiver's flags."""
    parser.add_argument(
        "--profile", default="default", help="profile name: each has its own data dir (default: default)"
    )
    parser.add_argument("--data-dir", help="keep this receiver's data here instead of the profile's data dir")
    parser.add_argument("--relay", metavar="URL", help="relay address, e.g. http://127.0.0.1:8765")
    parser.add_argument("--username", help="account to log in with")
    parser.add_argument("--password", help="password (with --relay and --username: log in without the login screen)")
    parser.add_argument("--device-name", help="this device's name as senders see it")
    parser.add_argument("--model", help="device model shown to senders (default: an emulator name)")
    parser.add_argument("--platform", choices=PLATFORMS, help="device platform (default: android)")
    network = parser.add_mutually_exclusive_group()
    network.add_argument(
        "--metered",
        dest="network",
        action="store_const",
        const="metered",
        help="start on an emulated metered (mobile data) connection",
    )
    network.add_argument(
        "--unmetered", dest="network", action="store_const", const="wifi", help="start on emulated Wi-Fi"
    )
    parser.add_argument("--wifi-only", choices=("yes", "no"), help="the setting 'Only download on Wi-Fi'")
    parser.add_argument(
        "--set-network",
        choices=("metered", "wifi"),
        help="flip the emulated network of this profile (running or not) and exit",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no window: run the background service only (metered pushes wait for Wi-Fi)",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="save the window as PNG after --screenshot-delay seconds, and again on SIGUSR1",
    )
    parser.add_argument(
        "--screenshot-delay",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="with --screenshot: seconds between the window opening and the first PNG (default 3)",
    )
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help="exit after this many seconds")
    parser.add_argument(
        "--control",
        action="store_true",
        help="listen on control.sock in the data dir for automation (demo tour, end-to-end tests)",
    )
    parser.add_argument(
        "--size",
        type=window_size,
        default="420x860",
        metavar="WIDTHxHEIGHT",
        help="window size in pixels (default 420x860, a phone)",
    )


def window_size(value: str) -> tuple[int, int]:
    """``--size``: ``420x860`` as (420, 860); anything else is refused by argparse, naming the form."""
    width, x, height = value.lower().partition("x")
    if x and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0:
        return int(width), int(height)
    raise argparse.ArgumentTypeError(f"{value!r} is not a window size: give WIDTHxHEIGHT in pixels, e.g. 420x860")


def run(args: argparse.Namespace) -> int:
    """Start the receiver; returns the exit status."""
    from mobile_receiver.platform.desktop import NETWORK_FILE
    from mobile_receiver.storage import read_json, write_json_atomic
    from shared.paths import data_dir

    directory = data_dir("receiver", args.profile, args.data_dir)
    if args.set_network:
        write_json_atomic(directory / NETWORK_FILE, {"metered": args.set_network == "metered"})
        print(f"{directory / NETWORK_FILE}: {args.set_network}")
        return 0
    if args.network:
        write_json_atomic(directory / NETWORK_FILE, {"metered": args.network == "metered"})
    elif read_json(directory / NETWORK_FILE) is None:
        write_json_atomic(directory / NETWORK_FILE, {"metered": False})

    from mobile_receiver.profile import ProfileStore

    store = ProfileStore(directory)
    profile = store.load()
    for flag, attr in (
        ("device_name", "device_name"),
        ("model", "model"),
        ("platform", "platform"),
        ("relay", "relay_url"),
        ("username", "username"),
    ):
        value = getattr(args, flag)
        if value:
            setattr(profile, attr, value.rstrip("/") if attr == "relay_url" else value)
    if args.wifi_only:
        profile.wifi_only = args.wifi_only == "yes"
    store.save(profile)
    from mobile_receiver import i18n

    # notifications and the sentences kept on pushes speak Settings' language, headless too
    i18n.set_language(profile.language)

    from mobile_receiver.service import ReceiverService

    service = ReceiverService(directory, can_ask=not args.headless)
    if args.relay and args.username and args.password and not _log_in_with_retries(service, args):
        return 2
    control = None
    if args.control:
        from appbeam_devtools.receiver_control import SOCKET_NAME, ControlServer

        control = ControlServer(service, directory / SOCKET_NAME).start()
    try:
        if args.headless:
            return _run_headless(service, args)
        from mobile_receiver.ui import run_app

        return run_app(
            service,
            size=args.size,
            screenshot=args.screenshot,
            screenshot_delay=args.screenshot_delay,
            quit_after=args.quit_after,
            prefill={"password": args.password or ""},
        )
    finally:
        if control is not None:
            control.stop()


def _log_in_with_retries(service: ReceiverService, args: argparse.Namespace, wait: float = 30.0) -> bool:
    """Log in from the flags. The relay may still be starting (the demo starts them side by side),
    so a passing failure is tried again for ``wait`` seconds, or until ``--quit-after`` if that
    comes first; the person hears at once that it waits, and why, in ``shared.explain``'s sentence
    (the words the sender and the phone's screens use), never the exception's text."""
    from shared.explain import explain, relay_place
    from shared.relay_errors import RelayError

    if args.quit_after is not None:
        wait = min(wait, args.quit_after)
    deadline = time.monotonic() + wait
    said = None
    try:
        while True:
            try:
                service.log_in(args.relay, args.username, args.password, args.device_name)
            except RelayError as exc:
                log.debug("logging in to %s failed", args.relay, exc_info=True)
                reason = explain(exc, place=relay_place(args.relay)).text
                remaining = deadline - time.monotonic()
                if not exc.transient:
                    log.error("Cannot log in: %s", reason)
                    return False
                if remaining <= 0:
                    why = " (--quit-after)" if args.quit_after is not None and args.quit_after <= wait else ""
                    log.error("Gave up logging in after %.0f s%s: %s", wait, why, reason)
                    return False
                if reason != said:
                    log.warning(
                        "Waiting for the relay: %s Trying again for up to %.0f s (Ctrl-C stops).", reason, remaining
                    )
                    said = reason
                time.sleep(min(0.5, remaining))
            else:
                log.info("logged in to %s as %s (device %s)", args.relay, args.username, service.profile.device_id)
                return True
    except KeyboardInterrupt:
        log.info("Stopped before logging in.")
        return False


def _run_headless(service: ReceiverService, args: argparse.Namespace) -> int:
    if not service.profile.logged_in:
        log.error("not logged in: give --relay, --username and --password (or run with a window once)")
        return 2
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    service.start()
    log.info("receiver %s running headless; data in %s", service.profile.device_id, service.data_dir)
    try:
        done.wait(args.quit_after)
    finally:
        service.stop()
    return 0
