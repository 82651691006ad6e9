"""``appbeam demo``: the whole system on one machine, each part in its own process.

Starts the relay (with its demo store) on a free port, creates two demo accounts that are
friends, then starts three receivers ("Phone": Alex's Android phone, "Tablet": Alex's iPad,
"Sam's phone": the friend's Android phone) and the desktop sender logged in as Alex.
Closing the sender or Ctrl-C stops everything.

Each run starts from nothing, in a fresh folder under the user data dir (``demo/runs/``) that is
removed when the demo stops: a second run shows the download and the install again, not
"Already installed" beside pushes from earlier runs. ``--keep`` keeps that folder (logs, the
relay's database, the phones' data); so does a run in which something went wrong, to read its
logs. ``--data-dir DIR`` is the person's own folder: kept, and the next run with it carries on
where this one stopped. A run killed before it could tidy up (SIGKILL, a power cut) leaves its
folder behind; the next run removes it.

``--headless`` runs the same without a screen (offscreen Qt, Kivy on Mesa), takes the
sender through one push (picker open, "Install now" to the phone), and writes screenshots
of every window to a folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from appbeam_devtools.local_relay import free_port
from relay_server.cli import tcp_port
from shared.paths import data_dir

#: The demo relay's port when it is free.
DEMO_PORT = 8765

log = logging.getLogger("appbeam.demo")

PASSWORD = "appbeam-demo"
OWNER = "alex"
FRIEND = "sam"
SENDER_NAME = "Alex's laptop"


@dataclass(frozen=True)
class DemoReceiver:
    """One emulated phone or tablet of the demo."""

    profile: str
    username: str
    name: str
    model: str
    platform: str


RECEIVERS = (
    DemoReceiver("phone", OWNER, "Alex's Pixel", "Pixel 8", "android"),
    DemoReceiver("tablet", OWNER, "Alex's iPad", "iPad Air", "ios"),
    DemoReceiver("sam-phone", FRIEND, "Sam's Galaxy", "Galaxy S24", "android"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="keep the demo's data here and carry on from it next time "
        "(default: a fresh folder for each run, removed when the demo stops)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep this run's fresh folder (logs, the relay's database, the phones' data) when the demo stops",
    )
    parser.add_argument(
        "--port", type=tcp_port, default=0, help=f"relay port (default: {DEMO_PORT} when free, else any)"
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no screen: run offscreen, take the sender through one push, save screenshots",
    )
    parser.add_argument(
        "--screenshots",
        metavar="DIR",
        default="screenshots",
        help="with --headless: folder for the PNGs (default ./screenshots)",
    )
    parser.add_argument(
        "--demo-scale",
        type=float,
        default=1.0,
        help="size factor of the generated demo packages (default 1.0: 1-50 MB)",
    )


def has_screen() -> bool:
    """True where windows can be shown (macOS, Windows, or an X11/Wayland session on Linux)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    if not args.headless and not has_screen():
        print(
            "No screen here (no DISPLAY or WAYLAND_DISPLAY): running the demo headless; "
            f"screenshots go to {Path(args.screenshots).resolve()}."
        )
        args.headless = True
    own = data_dir("demo", override=args.data_dir) if args.data_dir else None  # a sentence if it cannot be made
    demo = Demo(
        own or fresh_run_folder(),
        fresh=own is None,
        keep=args.keep,
        port=args.port,
        headless=args.headless,
        screenshots=Path(args.screenshots).resolve(),
        demo_scale=args.demo_scale,
    )
    return demo.run()


#: In the demo's runs folder: the pid of the demo using that run's folder (gone once it tidied up).
PID_FILE = "demo.pid"


def fresh_run_folder() -> Path:
    """An empty folder for one run under the user data dir (not /tmp: the relay's demo packages
    are a few hundred MB), after removing the folders of runs that were killed before they could."""
    runs = data_dir("demo", "runs")
    for old in runs.glob("run-*"):
        if _abandoned(old):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("run-%Y%m%d-%H%M%S-"), dir=runs))


def _abandoned(folder: Path) -> bool:
    """A run's folder whose demo is gone without tidying up: it still names a pid, and that
    process no longer runs. A kept folder names none; a demo still running is left alone."""
    try:
        pid = int((folder / PID_FILE).read_text())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # someone else's process: alive
    return False


class Demo:
    """Starts, supervises and stops the demo's processes."""

    def __init__(
        self,
        root: Path,
        *,
        fresh: bool = False,
        keep: bool = False,
        port: int = 0,
        headless: bool = False,
        screenshots: Path | None = None,
        demo_scale: float = 1.0,
    ):
        self.root = root
        self.fresh = fresh  # root is this run's own folder, removed at the end unless kept
        self.keep = keep
        self.troubled = False  # a part stopped unexpectedly: its log is worth keeping
        # The same address from one run to the next when it is free: a demo that carries on from its
        # --data-dir remembers pushes that point at the relay's address (their icons, their packages).
        self.port = port or free_port(DEMO_PORT)
        self.headless = headless
        self.screenshots = screenshots or root / "screenshots"
        self.demo_scale = demo_scale
        self.processes: dict[str, subprocess.Popen] = {}
        self.relay = None  # appbeam_devtools.local_relay.LocalRelay
        self.logs = root / "logs"

    @property
    def relay_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ processes

    def _spawn(self, name: str, *args: str, env: dict | None = None) -> subprocess.Popen:
        self.logs.mkdir(parents=True, exist_ok=True)
        log_file = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (the child process writes it)
        cmd = [sys.executable, "-m", "appbeam_devtools", *args]
        proc = subprocess.Popen(
            cmd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,
        )  # Ctrl-C reaches us; we stop the children
        log_file.close()
        self.processes[name] = proc
        log.info("started %s (pid %d); log in %s", name, proc.pid, self.logs / f"{name}.log")
        return proc

    def stop_all(self) -> None:
        """SIGTERM every child, then SIGKILL what is still running after a grace period; the relay last."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, proc in self.processes.items():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop; killing it", name)
                proc.kill()
                proc.wait(5)
        self.processes.clear()
        if self.relay is not None:
            self.relay.stop()

    # ------------------------------------------------------------------ steps

    def start_relay(self) -> None:
        from appbeam_devtools.local_relay import LocalRelay

        self.logs.mkdir(parents=True, exist_ok=True)
        self.relay = LocalRelay(self.root / "relay", port=self.port, extra_args=["--demo-scale", str(self.demo_scale)])
        self.relay.log_path = self.logs / "relay.log"
        self.relay.start()  # the first start generates the demo packages (a few seconds)
        log.info("started relay (pid %d); log in %s", self.relay.proc.pid, self.relay.log_path)

    def prepare_accounts(self) -> None:
        """Both demo accounts exist and are friends (idempotent: a second run changes nothing)."""
        from shared.relay_client import DeviceInfo, RelayClient
        from shared.relay_errors import RelayError

        clients = {}
        for username in (OWNER, FRIEND):
            client = RelayClient(self.relay_url)
            try:
                client.create_account(username, PASSWORD)
            except RelayError as exc:
                if exc.code != "username_taken":
                    raise
            # A short-lived device just for the set-up; removed again so pickers never show it.
            client.login(username, PASSWORD, DeviceInfo(f"demo-setup-{username}", "Demo set-up", "script", "linux"))
            clients[username] = client
        try:
            status = {f.username: f.status for f in clients[OWNER].friends()}.get(FRIEND)
            if status is None:
                clients[OWNER].request_friend(FRIEND)
                clients[FRIEND].accept_friend(OWNER)
            elif status == "pending_outgoing":
                clients[FRIEND].accept_friend(OWNER)
            elif status == "pending_incoming":
                clients[OWNER].accept_friend(FRIEND)
        finally:
            for username, client in clients.items():
                client.remove_device(f"demo-setup-{username}")

    def start_receivers(self) -> None:
        for receiver in RECEIVERS:
            args = [
                "receiver",
                "--profile",
                receiver.profile,
                "--data-dir",
                str(self.root / "receivers" / receiver.profile),
                "--relay",
                self.relay_url,
                "--username",
                receiver.username,
                "--password",
                PASSWORD,
                "--device-name",
                receiver.name,
                "--model",
                receiver.model,
                "--platform",
                receiver.platform,
            ]
            if self.headless:
                self.screenshots.mkdir(parents=True, exist_ok=True)
                args += [
                    "--screenshot",
                    str(self.screenshots / f"receiver-{receiver.profile}.png"),
                    "--screenshot-delay",
                    "3600",
                ]  # taken on SIGUSR1 when the tour says so
            self._spawn(f"receiver-{receiver.profile}", *args)

    def start_sender(self) -> subprocess.Popen:
        args = [
            "sender",
            "--profile",
            "demo",
            "--data-dir",
            str(self.root / "sender"),
            "--relay",
            self.relay_url,
            "--username",
            OWNER,
            "--password",
            PASSWORD,
            "--device-name",
            SENDER_NAME,
        ]
        if self.headless:
            args += ["--headless", "--tour", str(self.screenshots)]
        return self._spawn("sender", *args)

    def wait_for_sender_key(self, timeout: float = 90.0) -> None:
        """Wait until the sender has logged in and registered its signing key."""
        from shared.relay_client import DeviceInfo, RelayClient
        from shared.relay_errors import RelayError

        client = RelayClient(self.relay_url)
        client.login(OWNER, PASSWORD, DeviceInfo("demo-setup-wait", "Demo set-up", "script", "linux"))
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if any(d.name == SENDER_NAME and d.public_key for d in client.devices()):
                    return
                sender = self.processes.get("sender")
                if sender is not None and sender.poll() is not None:
                    return  # the supervisor reports it
                time.sleep(0.3)
            log.warning("the sender did not log in within %.0f s; starting the receivers anyway", timeout)
        except RelayError as exc:
            log.warning("could not check the sender's login: %s", exc)
        finally:
            client.remove_device("demo-setup-wait")

    def take_receiver_screenshots(self) -> None:
        for receiver in RECEIVERS:
            proc = self.processes.get(f"receiver-{receiver.profile}")
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGUSR1)

    # ------------------------------------------------------------------ main

    def run(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.fresh:
            (self.root / PID_FILE).write_text(str(os.getpid()))
        stop = {"asked": False}

        def on_signal(signum, frame):
            stop["asked"] = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        status = 1  # until the demo has run its course
        try:
            if self.fresh:
                kept = "kept: --keep" if self.keep else "removed when the demo stops; --keep keeps it"
                print(f"Appbeam demo: a fresh start in {self.root} ({kept})")
            else:
                print(f"Appbeam demo: data in {self.root} (kept: the next run with --data-dir carries on from it)")
            print(f"Logs in {self.logs}")
            if self.headless:
                self.forget_old_screenshots()
            self.start_relay()
            self.prepare_accounts()
            print(f"Relay and store: {self.relay_url}/  (accounts {OWNER!r} and {FRIEND!r}, password {PASSWORD!r})")
            # The laptop first, as in life: phones pin the keys their account has when they log
            # in, and a device key that appears later waits for the phone's user to trust it.
            sender = self.start_sender()
            self.wait_for_sender_key()
            self.start_receivers()
            print("Receivers: Alex's Pixel (Android), Alex's iPad (iOS), Sam's Galaxy (Android, a friend).")
            if self.headless:
                print(
                    "No window: the tour clicks 'Free download' on the store's first Android app, sends it to "
                    "Alex's Pixel with 'Install now', follows the download and the install, and saves a "
                    "screenshot of every window. It stops by itself (Ctrl-C stops it sooner)."
                )
            else:
                print("Click 'Free download' in the sender window. Close it or press Ctrl-C to stop everything.")
            status = self._supervise(sender, stop)
            if self.headless:
                self.take_receiver_screenshots()
                time.sleep(3)
                shots = sorted(p.name for p in self.screenshots.glob("*.png"))
                print(f"Screenshots in {self.screenshots}: {', '.join(shots) or 'none'}")
            return status
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.tidy_up(status)
            print("Appbeam demo stopped.")

    def forget_old_screenshots(self) -> None:
        """Remove the pictures an earlier headless run left in the screenshots folder: the tour's
        last picture tells this run when to photograph the phones, and a run that fails must not
        leave last time's pictures looking like its own."""
        names = ["sender-picker.png", "sender-pushes.png", *(f"receiver-{r.profile}.png" for r in RECEIVERS)]
        for name in names:
            (self.screenshots / name).unlink(missing_ok=True)

    def tidy_up(self, status: int) -> None:
        """Remove this run's fresh folder, unless asked to keep it or something went wrong (then its
        logs say what). The person's own ``--data-dir`` is never removed."""
        if not self.fresh:
            return
        if self.keep or status != 0 or self.troubled:
            (self.root / PID_FILE).unlink(missing_ok=True)  # kept on purpose: no later run removes it
            if self.keep:
                print(f"The demo's data and logs stay in {self.root}.")
            else:
                print(f"Something went wrong, so the demo's data and logs stay in {self.root} (logs/ says what).")
            print(f"To carry on from them: appbeam demo --data-dir {self.root}")
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def _supervise(self, sender: subprocess.Popen, stop: dict) -> int:
        """Wait until the sender closes or Ctrl-C; report a part that dies on its way."""
        reported = set()
        while not stop["asked"]:
            code = sender.poll()
            if code is not None:
                return 0 if code in (0, -signal.SIGTERM) else code
            if not self.relay.running and "relay" not in reported:
                reported.add("relay")
                self.troubled = True
                print(f"the relay stopped unexpectedly; see {self.relay.log_path}")
            for name, proc in self.processes.items():
                if name != "sender" and proc.poll() is not None and name not in reported:
                    reported.add(name)
                    self.troubled = True
                    print(f"{name} stopped unexpectedly (exit {proc.returncode}); see {self.logs / (name + '.log')}")
            if self.headless and "tour_done" not in reported:
                marker = self.screenshots / "sender-pushes.png"
                if marker.exists():
                    reported.add("tour_done")
                    self.take_receiver_screenshots()
            time.sleep(0.2)
        return 0
