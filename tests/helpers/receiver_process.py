"""A receiver ("phone") in its own process, driven through its automation socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from appbeam_devtools.receiver_control import SOCKET_NAME, send
from mobile_receiver.platform.desktop import NETWORK_FILE
from mobile_receiver.storage import write_json_atomic

REPO = Path(__file__).resolve().parents[2]

#: Seconds to wait for a state of the receiver before giving up: generous, for a busy machine.
WAIT = 60.0


class ReceiverProcess:
    """``appbeam receiver --headless --control`` logged in as one device."""

    def __init__(
        self, data_dir: Path, relay_url: str, username: str, password: str, *, name: str, model: str, platform: str
    ):
        self.data_dir = Path(data_dir)
        self.args = [
            "--data-dir",
            str(self.data_dir),
            "--relay",
            relay_url,
            "--username",
            username,
            "--password",
            password,
            "--device-name",
            name,
            "--model",
            model,
            "--platform",
            platform,
        ]
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def socket(self) -> Path:
        return self.data_dir / SOCKET_NAME

    def start(self, timeout: float = WAIT) -> "ReceiverProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "appbeam_devtools", "receiver", "--headless", "--control", *self.args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
            )
        self.wait_for(lambda s: s["connection"] == "connected", timeout, "the receiver to connect")
        return self

    def state(self) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"the receiver is not running:\n{self.log_tail()}")
        return send(self.socket, {"action": "state"}, timeout=WAIT)

    def push(self, push_id: str) -> dict | None:
        return next((p for p in self.state()["pushes"] if p["push_id"] == push_id), None)

    def tap(self, push_id: str, button: str) -> None:
        answer = send(self.socket, {"action": "tap", "push_id": push_id, "button": button}, timeout=WAIT)
        assert answer == {"ok": True}, answer

    def trust(self, device_id: str, timeout: float = WAIT) -> None:
        """As the phone's user: wait for a device's new key to be announced, then tap Trust."""
        self.wait_for(
            lambda st: any(k["device_id"] == device_id for k in st["keys"]),
            timeout,
            f"the key of {device_id} to be announced",
        )
        answer = send(self.socket, {"action": "trust", "device_id": device_id}, timeout=WAIT)
        assert answer == {"ok": True}, answer

    def set_metered(self, metered: bool) -> None:
        """Flip the emulated network, as the user's phone moving off or onto Wi-Fi."""
        write_json_atomic(self.data_dir / NETWORK_FILE, {"metered": metered})

    def wait_for(self, condition, timeout: float = WAIT, what: str = "a state") -> dict:
        deadline = time.monotonic() + timeout
        last: dict | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the receiver exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                last = send(self.socket, {"action": "state"}, timeout=5)
                if condition(last):
                    return last
            except (OSError, ValueError):
                pass  # not listening yet
            time.sleep(0.1)
        raise TimeoutError(f"waited {timeout}s for {what}; last state {last}\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> "ReceiverProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
