"""A real local HTTP server for package downloads, with knobs to misbehave.

Serves one package at ``/pkg`` from 127.0.0.1 in a background thread: ``Range`` (206 /
416), ``If-Range``, ``ETag`` and ``Last-Modified``, like the relay does. Variants used by
the download tests:

- ``ignore_range``: always answers 200 with the whole body;
- ``change_after``: after that many body bytes have been served, the package is replaced
  by ``new_body`` (with a new ETag);
- ``drop_after``: the first ``drop_times`` responses close the connection after that many
  body bytes (a dropped mobile connection);
- ``delay``: seconds to sleep between 16 KiB blocks (to pause a download mid-flight);
- ``fail_status``: the first ``fail_times`` requests get this status (e.g. 503).
"""

from __future__ import annotations

import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PackageServer:
    """One package at ``url``; use as a context manager, it stops its thread on exit."""

    def __init__(self, body: bytes, **knobs):
        self.body = body
        self.etag = _etag(body)
        self.last_modified = "Wed, 25 Nov 2026 10:00:00 GMT"
        self.ignore_range = knobs.pop("ignore_range", False)
        self.change_after = knobs.pop("change_after", None)
        self.new_body = knobs.pop("new_body", None)
        self.drop_after = knobs.pop("drop_after", None)
        self.drop_times = knobs.pop("drop_times", 1)
        self.delay = knobs.pop("delay", 0.0)
        self.fail_status = knobs.pop("fail_status", None)
        self.fail_times = knobs.pop("fail_times", 0)
        self.weak_etag = knobs.pop("weak_etag", False)
        if knobs:
            raise TypeError(f"unknown knobs {sorted(knobs)}")
        self.stopping = threading.Event()  # wakes handlers sleeping in ``delay``
        self.requests: list[dict] = []  # headers of every request, for assertions
        self.served = 0
        self.lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="package-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/pkg"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def __enter__(self) -> "PackageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.close_connections()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def _note_served(self, n: int) -> None:
        with self.lock:
            self.served += n
            if self.change_after is not None and self.served >= self.change_after and self.new_body is not None:
                self.body, self.new_body = self.new_body, None
                self.etag = _etag(self.body)
                self.last_modified = "Thu, 26 Nov 2026 10:00:00 GMT"


class _QuietServer(ThreadingHTTPServer):
    """Tracks open connections so that stopping the server also ends keep-alive handlers."""

    def __init__(self, *args):
        super().__init__(*args)
        self.open_sockets: set = set()
        self.handler_threads: list[threading.Thread] = []

    def process_request(self, request, client_address):
        self.open_sockets.add(request)
        super().process_request(request, client_address)
        self.handler_threads = [t for t in self.handler_threads if t.is_alive()]
        self.handler_threads.extend(t for t in threading.enumerate() if t.name.endswith("(process_request_thread)"))

    def shutdown_request(self, request):
        self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        for sock in list(self.open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in list(self.handler_threads):
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up mid-request are part of the tests


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _make_handler(server: PackageServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            with server.lock:
                server.requests.append(dict(self.headers))
                body, etag = server.body, server.etag
                failing = server.fail_status and server.fail_times > 0
                if failing:
                    server.fail_times -= 1
                dropping = server.drop_after is not None and server.drop_times > 0
                if dropping:
                    server.drop_times -= 1
            if self.path != "/pkg":
                self.send_error(404)
                return
            if failing:
                self.send_response(server.fail_status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag_header = ("W/" + etag) if server.weak_etag else etag
            start, status = 0, 200
            rng = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if rng and not server.ignore_range:
                range_valid = if_range is None or if_range in (etag, server.last_modified)
                if range_valid:
                    start = int(rng.split("=", 1)[1].split("-", 1)[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
            payload = body[start:]
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.android.package-archive")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag_header)
            self.send_header("Last-Modified", server.last_modified)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.end_headers()
            limit = server.drop_after if dropping else None
            sent = 0
            block = 16 * 1024
            try:
                while sent < len(payload):
                    piece = payload[sent : sent + block]
                    if limit is not None and sent + len(piece) > limit:
                        piece = piece[: max(0, limit - sent)]
                        self.wfile.write(piece)
                        self.wfile.flush()
                        server._note_served(len(piece))
                        self.close_connection = True
                        return  # hang up mid-body
                    self.wfile.write(piece)
                    self.wfile.flush()
                    sent += len(piece)
                    server._note_served(len(piece))
                    if server.delay and server.stopping.wait(server.delay):
                        return
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler
