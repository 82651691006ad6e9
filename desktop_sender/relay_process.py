"""Start a local relay as a subprocess, for the screenshots script and the tests.

The relay is started exactly as a user would (``python -m shared.cli relay``) on 127.0.0.1,
a free port and a data directory of the caller's choosing, and stopped by its process id.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to end the relay if the caller dies without stopping it
    (a crashed test run must not leave relays behind)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RelayProcess:
    """A relay subprocess; use as a context manager or call :meth:`stop`."""

    def __init__(self, data_dir: str | os.PathLike, port: int | None = None, extra_args: list[str] | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self.log_path = self.data_dir / "relay.log"

    def start(self, timeout: float = 30.0) -> "RelayProcess":
        """Start the relay and wait until it answers its health check."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ready = self.data_dir / "ready"
        ready.unlink(missing_ok=True)
        repo_root = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": str(repo_root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "relay", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(self.data_dir), "--ready-file", str(ready), *self.extra_args],
            cwd=repo_root, stdout=log, stderr=subprocess.STDOUT, env=env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the relay exited with {self.process.returncode}: {self.log_tail()}")
            if ready.exists():
                try:
                    if requests.get(f"{self.url}/api/v1/healthz", timeout=2).ok:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the relay did not start within {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        """Stop the relay (terminate, then kill if it hangs)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the relay's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> "RelayProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
