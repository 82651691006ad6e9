"""Serving the relay with gevent: one greenlet per connection, thousands of open streams."""

from __future__ import annotations

import errno
import gc
import ipaddress
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Protocol

import gevent
import gevent.ssl
from flask import Flask
from gevent.pywsgi import WSGIHandler, WSGIServer
from gevent.server import StreamServer

from relay_server.app import close_app, create_app
from relay_server.config import RelayConfig
from relay_server.request_deadlines import DeadlineHandler, Deadlines
from relay_server.sendfile import SendfileWrapper, send_file_range, sendfile_source

log = logging.getLogger(__name__)

#: Seconds between the relay's own full garbage collections (see ``_collect_garbage``).
FULL_GC_INTERVAL = 300.0


def _collect_garbage(interval: float = FULL_GC_INTERVAL) -> gevent.Greenlet:
    """Keep full garbage collections out of the way of pushes.

    A full collection walks every object of every open stream (tens of objects each, so
    0.1-0.2 s with 5,000 streams, all greenlets stopped), and Python starts one by itself
    whenever the long-lived objects grew by a quarter: with thousands of streams opening,
    that lands in the middle of pushes. Young collections still run as usual (they reclaim
    the garbage of requests); the full one runs here, every ``interval``. What is loaded at
    start-up (modules, the app) is frozen out of the collections for good.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)  # the full generation: only below

    def loop() -> None:
        while True:
            gevent.sleep(interval)
            gc.collect()

    return gevent.spawn(loop)


class _RelayHandler(DeadlineHandler, WSGIHandler):  # type: ignore[misc]  # gevent has no type information
    """pywsgi's handler, with deadlines for reading requests (see relay_server.request_deadlines),
    sending package files with ``os.sendfile`` (see relay_server.sendfile).

    Only the body changes: pywsgi still builds and sends the status line and headers (the
    ``write(b'')`` below is how it flushes them for an empty body), and every answer
    sendfile cannot serve byte for byte as promised goes through pywsgi's usual loop.
    """

    code: int  # pywsgi's: the status code of the answer (negative once the socket failed)

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        environ["wsgi.file_wrapper"] = SendfileWrapper
        return environ

    def process_result(self) -> None:
        source = sendfile_source(self.result)
        if (
            source is None
            # HEAD, 204 and 304 answers never reach here with a file (Werkzeug answers
            # them with an empty body), but the headers must promise an exact length:
            or self.provided_content_length is None
            or self.code in (204, 304)
            # TLS encrypts in user space: the kernel cannot send the file for it.
            or isinstance(self.socket, gevent.ssl.SSLSocket)
        ):
            super().process_result()
            return
        file, offset = source
        self.write(b"")  # the status line and headers, exactly as pywsgi sends them
        try:
            self.response_length += send_file_range(self.socket, file, offset, int(self.provided_content_length))
        except OSError as ex:  # what pywsgi's _sendall records for its access log
            self.status = f"socket error: {ex}"
            if self.code > 0:
                self.code = -self.code
            raise


class _RelayServer(WSGIServer):  # type: ignore[misc]  # gevent has no type information
    """gevent's WSGI server with Nagle's algorithm off on every connection.

    An event stream writes each event as one small chunk. With Nagle's algorithm a chunk
    written while the previous one is still unacknowledged waits for that ACK, and clients
    delay ACKs by up to 40 ms: a device sent two pushes in quick succession got the second
    one 40 ms late (the p99 of the latency benchmark with one device at 200 pushes/s).
    """

    def handle(self, sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)

    handler_class = _RelayHandler


#: The HTTP servers ``serve`` can put in front of the app (``appbeam relay --http-server``).
HTTP_SERVERS = ("lean", "pywsgi")


class HttpServer(Protocol):
    """What ``serve`` needs of the HTTP server ``make_server`` chose (both are gevent servers)."""

    server_port: int

    def start(self) -> None: ...

    def stop(self, timeout: float | None = None) -> None: ...


def make_server(
    listener: tuple[str, int] | socket.socket,
    app: Flask,
    deadlines: Deadlines,
    http_server: str = "lean",
    ssl_args: dict[str, Any] | None = None,
) -> HttpServer:
    """The relay's HTTP server for ``app`` on ``listener`` (an address or a bound socket).

    ``lean`` (the default): httptools' C parser on gevent connections (relay_server.lean_http);
    ``pywsgi``: gevent's pure-Python WSGI server with the same deadlines and sendfile.
    """
    ssl_args = ssl_args or {}
    if http_server == "lean":
        from relay_server.lean_http import LeanServer

        return LeanServer(listener, app, deadlines, **ssl_args)
    if http_server != "pywsgi":
        raise ValueError(f"unknown HTTP server {http_server!r}: one of {', '.join(HTTP_SERVERS)}")
    server = _RelayServer(listener, app, log=None, error_log=logging.getLogger("relay_server.wsgi"), **ssl_args)
    server.deadlines = deadlines
    return server


class StartupRefused(Exception):
    """The relay cannot start as asked (its address, its certificate); the message is one
    sentence saying which and what to do, printed instead of a traceback."""


def serve(
    host: str,
    port: int,
    overrides: dict[str, Any],
    *,
    certfile: str | None = None,
    keyfile: str | None = None,
    ready_file: str | None = None,
    http_server: str = "lean",
) -> int:
    """Run until SIGINT/SIGTERM; returns the exit status.

    The certificate is loaded and the address bound before anything is written: a relay that
    cannot serve says so at once, and leaves a fresh data dir as it was (the database and the
    demo store take seconds and hundreds of megabytes to make).
    """
    tls = tls_context(certfile, keyfile)
    worker = os.environ.get(WORKER_ENV)
    processes = overrides.get("processes")
    if processes is None:
        processes = int(os.environ.get("APPBEAM_PROCESSES") or 1)  # as RelayConfig.from_env reads it
    # Several processes share the port (SO_REUSEPORT); the supervisor only checks the address
    # is free and ours, and lets go of it before its processes bind it.
    sock = _bind(host, port, shared=worker is not None or processes > 1)
    if worker is None:
        _warn_if_in_clear(host, tls)
    if processes > 1 and worker is None:
        sock.close()
        config = RelayConfig.from_env(**overrides)
        return supervise(config.processes, host, port, config.data_dir, ready_file)
    config = RelayConfig.from_env(**overrides)
    app = create_app(config)
    ssl_args = {"ssl_context": tls} if tls else {}
    deadlines = Deadlines(
        idle_timeout=config.idle_timeout,
        header_timeout=config.header_timeout,
        body_timeout=config.body_timeout,
        max_body=config.max_request_bytes,
        stream_min_rate=config.upload_min_rate,
        stream_rate_window=config.upload_rate_window,
    )
    if worker is not None:
        _wait_for_the_others(sock, config.data_dir, worker)
    else:
        _listen(sock, host, port, StreamServer.backlog)
    server = make_server(sock, app, deadlines, http_server, ssl_args)
    collector = _collect_garbage()
    server.start()
    scheme = "https" if tls else "http"
    url = f"{scheme}://{host}:{server.server_port}/"
    log.info("relay listening on %s (data in %s)", url, config.data_dir)
    if ready_file:
        tmp = Path(ready_file + ".tmp")
        tmp.write_text(url)
        tmp.replace(ready_file)

    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    stop.wait()
    log.info("relay stopping")
    # Streams end first, then the server stops (requests still running get 2 s), and only then
    # does close_app close the database pool: closing a connection that a request's greenlet is
    # using (psycopg2 holds a lock across its cooperative wait) would block this process forever.
    app.extensions["appbeam_relay"].hub.close_all()
    server.stop(timeout=2)
    close_app(app)
    collector.kill()
    return 0


def tls_context(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    """The server's TLS settings with the certificate and key loaded once, now: a file that is
    missing or wrong stops the start with a sentence, instead of failing every connection."""
    if not certfile and not keyfile:
        return None
    if not certfile:
        raise StartupRefused(
            "--keyfile needs --certfile too: give the certificate and its private key to serve HTTPS, "
            "or neither to serve plain HTTP."
        )
    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path is None:
            continue  # the certificate's file holds its key too
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise StartupRefused(f"{flag} {path} cannot be read ({exc.strerror}). Check the path.") from exc
    context: ssl.SSLContext = gevent.ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # its sockets cooperate with gevent
    try:
        context.load_cert_chain(certfile, keyfile)
    except ssl.SSLError as exc:
        if "MISMATCH" in str(exc.reason):
            raise StartupRefused(f"The key {keyfile} does not belong to the certificate {certfile}.") from exc
        try:
            ssl.create_default_context(cafile=certfile)
        except ssl.SSLError:
            raise StartupRefused(f"--certfile {certfile} holds no certificate in PEM form.") from exc
        if keyfile is None:
            raise StartupRefused(
                f"--certfile {certfile} holds no private key: give it with --keyfile, or use one PEM file holding both."
            ) from exc
        raise StartupRefused(f"--keyfile {keyfile} holds no private key in PEM form (or it needs a password).") from exc
    return context


#: Hosts whose connections never leave this machine: no warning about plain HTTP for them.
_LOOPBACK_NAMES = ("localhost",)


def _warn_if_in_clear(host: str, tls: ssl.SSLContext | None) -> None:
    """Say so when passwords and tokens will cross the network unencrypted."""
    if tls is not None or host in _LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass  # a host name: it may well resolve to an outside address
    log.warning(
        "the relay listens on %s without TLS: anyone on the network can read passwords and tokens; "
        "use --certfile/--keyfile or a TLS proxy (docs/deploy.md)",
        host or "every address",
    )


def _bind(host: str, port: int, *, shared: bool) -> socket.socket:
    """A socket bound to ``host:port``, not listening yet (connections wait until the app is
    ready); ``shared``: with SO_REUSEPORT, as every process of ``--processes`` binds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as gevent chooses for an address
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gevent's own listeners
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupRefused(_cannot_listen(host, port, exc)) from exc
    return sock


def _listen(sock: socket.socket, host: str, port: int, backlog: int) -> None:
    try:
        sock.listen(backlog)
    except OSError as exc:  # another socket bound (not listening) at the same time began first
        raise StartupRefused(_cannot_listen(host, port, exc)) from exc
    sock.setblocking(False)


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    where = f"Cannot listen on {host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"{where}: no address of this machine is called {host!r}. Check --host."
    if exc.errno == errno.EADDRINUSE:
        return f"{where}: the port is in use by another program. Stop it or choose another --port."
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{where}: {host} is not an address of this machine. "
            "Choose one of its addresses with --host (or 0.0.0.0 for all)."
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{where}: ports below 1024 need administrator rights. Choose --port 1024 or above "
            "(and put a proxy on 80/443 in front, see docs/deploy.md)."
        )
    return f"{where}: {exc.strerror or exc}. Check --host and --port."


# ---------------------------------------------------------------------------- several processes

#: Set in the environment of each relay process started by ``supervise`` (its number).
WORKER_ENV = "APPBEAM_WORKER_INDEX"


def _run_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "run"


def _wait_for_the_others(sock: socket.socket, data_dir: Path, worker: str) -> None:
    """This worker's socket (bound with SO_REUSEPORT: the kernel spreads new connections over
    the workers' sockets) listens only once every worker is ready, so the first connections
    do not all land on the first worker up."""
    run = _run_dir(data_dir)
    (run / f"ready-{worker}").write_text(str(os.getpid()))
    go = run / "go"
    while not go.exists():
        time.sleep(0.05)  # gevent's sleep: the app's background work goes on meanwhile
    sock.listen(1024)
    sock.setblocking(False)


def supervise(processes: int, host: str, port: int, data_dir: Path, ready_file: str | None) -> int:
    """Start ``processes`` relay processes on one port (SO_REUSEPORT) and keep them running.

    Each is this command again with ``APPBEAM_WORKER_INDEX`` set; they share the data dir and
    the database (SQLite: ``HostCluster`` wakes streams across them; PostgreSQL: its
    ``Cluster``). A process that dies is started again; SIGTERM/SIGINT stop them all.
    """
    if port == 0:
        print("appbeam relay: --processes needs a fixed --port", file=sys.stderr)
        return 2
    run = _run_dir(data_dir)
    run.mkdir(parents=True, exist_ok=True)
    for stale in run.glob("*"):
        stale.unlink(missing_ok=True)
    command = [sys.executable, "-m", "appbeam_devtools", *sys.argv[1:]]
    workers: dict[int, subprocess.Popen[bytes]] = {}

    def start(index: int) -> None:
        env = {**os.environ, WORKER_ENV: str(index)}
        workers[index] = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)

    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    deadline = time.monotonic() + 300
    # The first process alone first: it creates or migrates the tables, which two processes
    # must not do at the same time (PostgreSQL's CREATE INDEX IF NOT EXISTS can race).
    for wave in ([0], list(range(1, processes))):
        for index in wave:
            start(index)
        while not all((run / f"ready-{i}").exists() for i in wave):
            if stop.is_set() or time.monotonic() > deadline or any(w.poll() is not None for w in workers.values()):
                log.error("the relay processes did not all start")
                _stop_all(workers)
                return 1
            gevent.sleep(0.05)
    (run / "go").write_text("")
    url = f"http://{host}:{port}/"
    log.info("relay listening on %s with %d processes (data in %s)", url, processes, data_dir)
    if ready_file:
        tmp = Path(ready_file + ".tmp")
        tmp.write_text(url)
        tmp.replace(ready_file)
    while not stop.wait(0.5):
        for index, proc in list(workers.items()):
            if proc.poll() is not None:
                log.error("relay process %d exited with %s; starting it again", index, proc.returncode)
                start(index)
    _stop_all(workers)
    return 0


#: Seconds the processes get to stop cleanly before they are killed (callers such as
#: ``LocalRelay.stop`` wait 10 s for the supervisor itself).
STOP_SECONDS = 7.0


def _stop_all(workers: dict[int, subprocess.Popen[bytes]]) -> None:
    for proc in workers.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for proc in workers.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()  # nothing is lost: a 201 survives SIGKILL
            proc.wait(5)


def _die_with_parent() -> None:
    """In a worker, before exec: end it if the supervisor dies without stopping it (Linux).
    SIGKILL, not SIGTERM: a worker whose supervisor was killed must not linger (a 201 survives it)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
