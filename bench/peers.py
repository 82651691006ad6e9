"""The peers: Mosquitto and nginx on free loopback ports, configured in a temp dir, stopped after."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import log
from bench.prepare import ensure_binary
from shared.local_relay import free_port


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"peer exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"peer did not listen on {port} within {timeout}s")


class _Peer:
    proc: subprocess.Popen | None = None
    name = "peer"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Mosquitto(_Peer):
    """mosquitto on 127.0.0.1:<free port>, anonymous, no persistence file, no connection cap."""

    name = "mosquitto"

    def __init__(self):
        self.binary = ensure_binary("mosquitto")
        self.port = free_port()
        self.tmp = None

    @property
    def available(self) -> bool:
        return self.binary is not None

    def start(self) -> "Mosquitto":
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-mosquitto-"))
        conf = self.tmp / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_connections -1",
            "max_queued_messages 10000",
            "log_dest stderr",
            "log_type error",
        ]
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        log_file = open(self.tmp / "mosquitto.log", "wb")
        self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc)
        return self


class Nginx(_Peer):
    """nginx serving ``root`` on 127.0.0.1:<free port>, sendfile on, one worker per core."""

    name = "nginx"

    def __init__(self, root: Path):
        self.binary = ensure_binary("nginx")
        self.root = Path(root)
        self.port = free_port()
        self.tmp = None

    @property
    def available(self) -> bool:
        return self.binary is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Nginx":
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        (self.tmp / "logs").mkdir()
        user = "user root;" if os.geteuid() == 0 else ""
        conf = self.tmp / "nginx.conf"
        conf.write_text(f"""{user}
worker_processes auto;
daemon off;
master_process on;
pid {self.tmp}/nginx.pid;
error_log {self.tmp}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30;
    types {{ application/vnd.android.package-archive apk; }}
    default_type application/octet-stream;
    client_body_temp_path {self.tmp}/body;
    proxy_temp_path {self.tmp}/proxy;
    fastcgi_temp_path {self.tmp}/fastcgi;
    uwsgi_temp_path {self.tmp}/uwsgi;
    scgi_temp_path {self.tmp}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.root};
    }}
}}
""")
        self.proc = subprocess.Popen([self.binary, "-c", str(conf), "-p", str(self.tmp)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.tmp / "logs" / "stderr", "wb"))
        _wait_port(self.port, self.proc)
        return self
