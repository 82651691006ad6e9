"""Fixtures for the shared package's tests: a tiny scriptable HTTP server on 127.0.0.1.

Each test gives the server an ``app(handler)`` callable that answers one request; the
server records every request it saw (method, path, headers, body). The handler has
helpers for JSON/raw replies and for Server-Sent Events (chunked, like the relay's
gevent server, or close-delimited like a bare HTTP/1.0 server).

Teardown order matters for a clean exit: clients close their sessions first (their
fixtures depend on the server fixture), then the server's ``stop`` event wakes handlers
that hold a connection open, then the server is shut down and its handler threads joined.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.relay_client import RelayClient


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle keep-alive connection never holds a handler thread for long
    server: "LocalServer"

    def log_message(self, *args) -> None:
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.recorded.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
            index = len(self.server.recorded) - 1
        self.request_index = index  # 0 for the first request the server saw, 1 for the next...
        self.server.app(self)

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _dispatch

    # -- plain replies

    def reply(
        self,
        status: int,
        body: Any = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self.reply(status, {"error": {"code": code, "message": message}}, headers=headers)

    # -- Server-Sent Events

    def start_events(self, *, chunked: bool = True) -> None:
        self._chunked = chunked
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True

    def send_events(self, text: str) -> None:
        data = text.encode()
        if self._chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def end_events(self) -> None:
        """End the stream cleanly (the last chunk)."""
        if self._chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def drop(self) -> None:
        """Cut the connection in the middle of the stream (no last chunk)."""
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hold(self, seconds: float = 30.0) -> None:
        """Keep the connection open, sending nothing, until the test ends."""
        self.server.stop.wait(seconds)


class LocalServer(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread
    block_on_close = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.app: Callable[[Handler], None] = lambda h: h.error(404, "not_found", "nothing here")
        self.recorded: list[Recorded] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away mid-stream is expected here

    def get_request(self):
        sock, addr = super().get_request()
        with self.lock:
            self._connections.append(sock)
        return sock, addr

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def requests_to(self, path_prefix: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.recorded if r.path.startswith(path_prefix)]

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.shutdown()
        # End keep-alive connections a client still holds (e.g. a response kept alive by a
        # stored exception), so that joining the handler threads does not wait for them.
        with self.lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()
        self._thread.join(5)


@pytest.fixture
def server():
    srv = LocalServer().start()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def make_client(server):
    """Clients of ``server``; their (this thread's) sessions are closed before the server stops."""
    made: list[RelayClient] = []

    def make(token: str | None = None, **kwargs) -> RelayClient:
        client = RelayClient(server.url, token, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.session.close()


@pytest.fixture
def client(make_client) -> RelayClient:
    return make_client("tok-123", timeout=5)


@pytest.fixture
def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StatusLog:
    """Collects an EventStream's on_status reports."""

    items: list = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, status) -> None:
        with self.changed:
            self.items.append(status)
            self.changed.notify_all()

    @property
    def states(self) -> list[str]:
        return [s.state for s in self.items]

    def wait_for(self, state: str, count: int = 1, timeout: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.states.count(state) >= count, timeout)


@pytest.fixture
def status_log() -> StatusLog:
    return StatusLog()
