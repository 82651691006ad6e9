"""A real relay in its own process (gevent server), for tests that need real HTTP and streams.

Usage::

    with RelayProcess(tmp_path) as relay:
        client = RelayClient(relay.url)

``kill()`` sends SIGKILL (crash), ``start()`` brings it back on the same port and data.
Every process started here is stopped on exit, whatever happens in the test.
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

from tests.helpers.database import reset_database, test_database_url

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RelayProcess:
    """``appbeam relay`` on 127.0.0.1, a free port, and a private data directory."""

    def __init__(self, data_dir: Path, *, port: int | None = None, demo_scale: float = 0.01,
                 keepalive: float = 1.0, extra_args: list[str] | None = None, env: dict | None = None,
                 fresh_database: bool = True):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.demo_scale = demo_scale
        self.keepalive = keepalive
        self.extra_args = list(extra_args or [])
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "relay.log"
        self.database_url = test_database_url()
        # False for a second relay process joining the same database as a first one.
        self._started_once = not fresh_database

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "RelayProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "shared.cli", "relay", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--demo-scale", str(self.demo_scale),
               "--keepalive", str(self.keepalive), "--allow-private-mirror", *self.extra_args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        if self.database_url:
            env["APPBEAM_DATABASE_URL"] = self.database_url
            if not self._started_once:  # a restart after kill() keeps the data, as a real one would
                reset_database(self.database_url)
        self._started_once = True
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"relay exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/api/v1/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"relay did not start in {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """Crash it (SIGKILL): no clean shutdown, as after a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> "RelayProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
