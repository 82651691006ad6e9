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

from appbeam_devtools.local_relay import free_port
from bench.prepare import ensure_binary


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
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(conf), "-p", str(self.tmp)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "logs" / "stderr", "wb"),
        )
        _wait_port(self.port, self.proc)
        return self


class Postgres(_Peer):
    """A throwaway PostgreSQL server (Debian's server programs) on 127.0.0.1:<free port>, in a temp
    dir, with its defaults (fsync on: a commit is durable, as for the relay on SQLite). Run as the
    postgres user when root. ``url(name)``: a database's URL; ``create(name, template)``."""

    name = "postgresql"

    def __init__(self):
        import glob

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bindir = Path(found[-1]).parent if found else None
        self.port = free_port()
        self.tmp = None

    @property
    def available(self) -> bool:
        return self.bindir is not None

    def _as_user(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        import pwd

        try:
            pwd.getpwnam("postgres")
            return ["runuser", "-u", "postgres", "--"]
        except KeyError:
            return ["runuser", "-u", "nobody", "--"]

    def start(self) -> "Postgres":
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
        user = self._as_user()
        if user:
            shutil.chown(self.tmp, user[2])
        data = self.tmp / "data"
        subprocess.run(
            [*user, str(self.bindir / "initdb"), "-D", str(data), "-U", "appbeam", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *user,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.tmp / "server.log"),
                "-w",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.tmp} -c max_connections=300",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self._pg_ctl_user = user
        self.create("postgres_bench")
        return self

    @property
    def server_pid(self) -> int:
        """The postmaster's pid (its backends are its children)."""
        return int((self.tmp / "data" / "postmaster.pid").read_text().split()[0])

    def url(self, database: str) -> str:
        return f"postgresql://appbeam@127.0.0.1:{self.port}/{database}"

    def _sql(self, statement: str) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"))
        conn.autocommit = True
        try:
            conn.cursor().execute(statement)
        finally:
            conn.close()

    def create(self, database: str, template: str | None = None) -> str:
        self._sql(f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(database)

    def drop(self, database: str) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def stop(self) -> None:
        if self.tmp is not None and self.bindir is not None:
            subprocess.run(
                [
                    *getattr(self, "_pg_ctl_user", []),
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.tmp / "data"),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
            )
        super().stop()
