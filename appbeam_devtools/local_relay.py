"""A relay on this machine in a child process: for the demo, screenshot scripts and tests.

It is started exactly as a user would start one (``python -m appbeam_devtools relay``) on
127.0.0.1, a free port and a data directory of the caller's choosing. ``kill()`` crashes it
(SIGKILL); ``start()`` again brings it back on the same port with the same data.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]


def free_port(preferred: int = 0) -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now: ``preferred`` when it is free,
    else any."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free TCP port on 127.0.0.1")


def _die_with_parent() -> None:
    """In the child, before exec: have Linux end it if the parent dies without stopping it."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalRelay:
    """``appbeam relay`` as a child process; a context manager, or call start/stop."""

    #: The child's working directory (a test of an installed wheel runs it from elsewhere).
    workdir: Path = REPO

    def __init__(
        self,
        data_dir: str | os.PathLike,
        *,
        port: int | None = None,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.extra_args = list(extra_args or [])
        self.env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "relay.log"

    @property
    def url(self) -> str:
        scheme = "https" if "--certfile" in self.extra_args else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "appbeam_devtools.cli",
            "relay",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.extra_args,
        ]

    def start(self, timeout: float = 120.0) -> "LocalRelay":
        """Start it and wait for its health check (the first start generates the demo packages)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **self.env,
        }
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the relay exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                # Readiness only: whether a client trusts its certificate is the client's business.
                if requests.get(f"{self.url}/healthz", timeout=1, verify=False).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the relay did not start within {timeout:.0f}s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Crash it (SIGKILL): no clean shutdown, as after a power cut."""
        if self.running:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        """Stop it cleanly (SIGTERM), killing it if it hangs."""
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> "LocalRelay":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
