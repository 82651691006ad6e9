"""Fault injection for the relay and the receiver: real processes, SIGKILL, a TCP proxy
between them that can refuse, reset or stall connections.

Everything a fixture starts (relay processes, receiver processes, servers, proxies,
threads) is stopped when the test ends, also when it fails.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import struct
import threading
import time
from pathlib import Path

import pytest

from tests.helpers.receiver_process import ReceiverProcess
from tests.helpers.relay_process import RelayProcess


def wait_until(condition, timeout: float = 30.0, what: str = "a condition", interval: float = 0.05):
    """Poll ``condition`` until it returns something truthy (returned); TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f}s for {what}")
        time.sleep(interval)


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of ``upstream_port``, with faults on demand.

    Modes for new connections: ``forward`` (normal), ``refuse`` (accept, then reset at
    once: what a client sees of a relay that is down behind a load balancer) and ``stall``
    (accept and never answer). ``stall_existing()`` stops moving bytes on the open
    connections (a server that stops answering); ``reset_all()`` resets every open
    connection (RST). ``accept_times`` records when each client connection came in.

    It also measures and holds what flows through it, by the path of the first request on a
    connection (``GET /files/... HTTP/1.1`` -> ``/files/...``): ``delivered(prefix)`` is how
    many bytes went to clients on connections whose path starts with ``prefix``; ``requests``
    lists ``(time, path)`` of each forwarded connection; ``hold(prefix, after)`` stops sending
    to clients on such connections once ``after`` bytes have gone (``held`` is set when one
    waits there) until ``release()``: a download is then certainly mid-way while a test acts.
    """

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.mode = "forward"
        self.accept_times: list[float] = []
        self.requests: list[tuple[float, str]] = []
        self._delivered: dict[str, int] = {}
        self._hold: tuple[str, int] | None = None
        self.held = threading.Event()
        self._released = threading.Event()
        self._stalled = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self._accepter.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- faults

    def set_mode(self, mode: str) -> None:
        assert mode in ("forward", "refuse", "stall")
        self.mode = mode
        if mode == "forward":
            self._stalled.clear()

    def stall_existing(self) -> None:
        self._stalled.set()

    def reset_all(self) -> int:
        """RST every open connection (both sides); returns how many client sockets there were."""
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            _reset(sock)
        return len(sockets) // 2

    def connections_since(self, since: float) -> int:
        return sum(1 for t in list(self.accept_times) if t >= since)

    def delivered(self, prefix: str) -> int:
        """Bytes sent to clients on connections whose first request's path starts with ``prefix``."""
        with self._lock:
            return sum(n for path, n in self._delivered.items() if path.startswith(prefix))

    def requests_since(self, since: float, prefix: str = "") -> list[float]:
        return [t for t, path in list(self.requests) if t >= since and path.startswith(prefix)]

    def hold(self, prefix: str, after: int) -> None:
        """From now on, stop sending to clients of ``prefix`` once ``after`` bytes went to them."""
        self.held.clear()
        self._released.clear()
        self._hold = (prefix, after)

    def release(self) -> None:
        self._hold = None
        self._released.set()

    def close(self) -> None:
        self._stop.set()
        self.release()
        self._accepter.join(5)
        self.listener.close()
        self.reset_all()
        for thread in list(self._threads):
            thread.join(5)

    # -- plumbing

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._sockets.update(socks)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.accept_times.append(time.monotonic())
            if self.mode == "refuse":
                _reset(client)
                continue
            if self.mode == "stall":
                self._track(client)  # held open, never read, never answered
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
            except OSError:
                _reset(client)  # the relay is down: the client's connection dies at once
                continue
            self._track(client, upstream)
            info = {"path": None, "ready": threading.Event()}
            for src, dst, to_client in ((client, upstream, False), (upstream, client, True)):
                thread = threading.Thread(
                    target=self._pump, args=(src, dst, info, to_client), name="tcp-proxy-pump", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._threads = [t for t in self._threads if t.is_alive()]

    def _pump(self, src: socket.socket, dst: socket.socket, info: dict, to_client: bool) -> None:
        src.settimeout(0.1)
        try:
            while not self._stop.is_set():
                if self._stalled.is_set():
                    time.sleep(0.05)
                    continue
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                if not to_client:
                    if info["path"] is None:
                        info["path"] = _request_path(data)
                        self.requests.append((time.monotonic(), info["path"]))
                        info["ready"].set()
                    dst.sendall(data)
                    continue
                info["ready"].wait(5)
                self._send_to_client(dst, data, info["path"] or "")
        except OSError:
            _reset(src)
            _reset(dst)

    def _send_to_client(self, dst: socket.socket, data: bytes, path: str) -> None:
        while data:
            hold = self._hold
            piece = data
            if hold is not None and path.startswith(hold[0]):
                room = hold[1] - self.delivered(hold[0])
                if room <= 0:
                    self.held.set()
                    while not self._released.wait(0.1):
                        if self._stop.is_set():
                            return
                    continue
                piece = data[:room]
            dst.sendall(piece)
            with self._lock:
                self._delivered[path] = self._delivered.get(path, 0) + len(piece)
            data = data[len(piece) :]


def _request_path(data: bytes) -> str:
    """``GET /files/x HTTP/1.1`` -> ``/files/x`` (query dropped); "" when it is not a request line."""
    parts = data.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].split(b"?", 1)[0].decode("latin-1") if len(parts) >= 2 else ""


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class RelayDatabase:
    """Read-only SQL on a relay's database (its SQLite file, or the test PostgreSQL)."""

    def __init__(self, relay: RelayProcess):
        self.relay = relay

    def snapshot(self, *sqls: str) -> list[list[tuple]]:
        """Run several queries on one consistent snapshot (the relay may be writing meanwhile)."""
        if self.relay.database_url:
            import psycopg2

            conn = psycopg2.connect(self.relay.database_url)
            try:
                conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
                with conn.cursor() as cur:
                    results = []
                    for sql in sqls:
                        cur.execute(sql)
                        results.append(cur.fetchall())
                    return results
            finally:
                conn.close()
        path = Path(self.relay.data_dir) / "relay.db"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10, isolation_level=None)
        try:
            conn.execute("BEGIN")  # one read transaction: every query sees the same WAL snapshot
            results = [conn.execute(sql).fetchall() for sql in sqls]
            conn.execute("COMMIT")
            return results
        finally:
            conn.close()

    def rows(self, sql: str) -> list[tuple]:
        if self.relay.database_url:
            import psycopg2

            conn = psycopg2.connect(self.relay.database_url)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    return cur.fetchall()
            finally:
                conn.close()
        path = Path(self.relay.data_dir) / "relay.db"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


@pytest.fixture
def proxies():
    """``proxies(upstream_port)`` makes a TcpProxy; all are closed after the test."""
    made: list[TcpProxy] = []

    def make(upstream_port: int) -> TcpProxy:
        proxy = TcpProxy(upstream_port)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


@pytest.fixture
def relays():
    """``relays(data_dir, **kwargs)`` makes a started RelayProcess; all are stopped after the test."""
    made: list[RelayProcess] = []

    def make(data_dir: Path, **kwargs) -> RelayProcess:
        relay = RelayProcess(data_dir, **kwargs)
        made.append(relay)
        return relay.start()

    yield make
    for relay in made:
        relay.stop()


@pytest.fixture
def receivers():
    """``receivers(...)`` makes a started ReceiverProcess; all are stopped (or reaped) after."""
    made: list[ReceiverProcess] = []

    def make(*args, start: bool = True, **kwargs) -> ReceiverProcess:
        receiver = ReceiverProcess(*args, **kwargs)
        made.append(receiver)
        return receiver.start() if start else receiver

    yield make
    for receiver in made:
        try:
            receiver.stop()
        finally:
            if receiver.proc is not None and receiver.proc.poll() is None:
                receiver.proc.kill()
                receiver.proc.wait(5)


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Every thread a fault test starts (proxies, pumps, readers, servers) is gone at its end."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 10
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture
def seed() -> int:
    """One seed for a fault test's randomness (kill moments, sizes); ``APPBEAM_FAULT_SEED`` overrides."""
    return int(os.environ.get("APPBEAM_FAULT_SEED", "20261126"))
