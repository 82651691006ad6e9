"""Package files sent with ``os.sendfile`` by the real server (relay_server.server/sendfile).

A relay process with demo packages of a few MB; every body is compared byte for byte with
the file in its store, over plain HTTP (the sendfile path) and HTTPS (the copy fallback).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import socket
import ssl
from urllib.parse import urlsplit

import gevent
import gevent.socket
import pytest
import urllib3
from werkzeug.wsgi import _RangeWrapper

from relay_server.sendfile import SendfileWrapper, send_file_range, sendfile_source
from tests.helpers.relay_process import RelayProcess
from tests.relay.test_https import _self_signed

#: Demo packages at this scale: the largest is about 5 MB.
DEMO_SCALE = 0.1


def _largest_package(base_url: str, context=None) -> dict:
    conn = _connect(base_url, context)
    conn.request("GET", "/api/v1/apps")
    apps = json.loads(conn.getresponse().read())["apps"]
    conn.close()
    packages = [p for a in apps for p in a["packages"]]
    return max(packages, key=lambda p: p["size"])


def _connect(base_url: str, context=None) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=30)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def _store_bytes(relay, sha: str) -> bytes:
    data = (relay.data_dir / "packages" / sha[:2] / sha).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha
    return data


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    process = RelayProcess(tmp_path_factory.mktemp("sendfile") / "relay", demo_scale=DEMO_SCALE).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def package(relay):
    info = _largest_package(relay.url)
    data = _store_bytes(relay, info["sha256"])
    assert len(data) == info["size"] > 2_000_000  # multi-MB: many send buffers' worth
    return info["url"], data


def _get(conn, url, headers=None, method="GET"):
    conn.request(method, url, headers=headers or {})
    resp = conn.getresponse()
    return resp, resp.read()


def test_full_get_returns_every_byte_with_its_length(relay, package):
    url, data = package
    conn = _connect(relay.url)
    resp, body = _get(conn, url)
    assert resp.status == 200
    assert int(resp.getheader("Content-Length")) == len(data)
    assert resp.getheader("Transfer-Encoding") is None
    assert resp.getheader("ETag").strip('"') == hashlib.sha256(data).hexdigest()
    assert body == data
    conn.close()


@pytest.mark.parametrize(
    "range_header, first, last",
    [
        ("bytes=1000-2999999", 1000, 2999999),
        ("bytes=0-0", 0, 0),
        ("bytes=-12345", None, None),  # the last 12345 bytes
        ("bytes=2000000-", 2000000, None),  # to the end
    ],
)
def test_range_get_returns_the_slice_with_206(relay, package, range_header, first, last):
    url, data = package
    if first is None:
        first, last = len(data) - 12345, len(data) - 1
    elif last is None:
        last = len(data) - 1
    conn = _connect(relay.url)
    resp, body = _get(conn, url, {"Range": range_header})
    assert resp.status == 206
    assert resp.getheader("Content-Range") == f"bytes {first}-{last}/{len(data)}"
    assert int(resp.getheader("Content-Length")) == last - first + 1
    assert body == data[first : last + 1]
    conn.close()


def test_head_has_headers_and_no_body(relay, package):
    url, data = package
    conn = _connect(relay.url)
    resp, body = _get(conn, url, method="HEAD")
    assert resp.status == 200 and int(resp.getheader("Content-Length")) == len(data) and body == b""
    # the connection is still in step: a GET on it gets the whole file
    resp, body = _get(conn, url)
    assert resp.status == 200 and body == data
    conn.close()


def test_keep_alive_serves_several_requests_on_one_connection(relay, package):
    url, data = package
    conn = _connect(relay.url)
    resp, body = _get(conn, url)
    first_socket = conn.sock
    assert resp.status == 200 and body == data and not resp.will_close
    resp, body = _get(conn, url, {"Range": "bytes=10-19"})
    assert resp.status == 206 and body == data[10:20]
    resp, body = _get(conn, url, {"If-None-Match": f'"{hashlib.sha256(data).hexdigest()}"'})
    assert resp.status == 304 and body == b""
    resp, body = _get(conn, url)
    assert resp.status == 200 and body == data
    assert conn.sock is first_socket  # never reconnected
    conn.close()


def test_eight_concurrent_downloads_all_get_the_right_bytes(relay, package):
    url, data = package
    from concurrent.futures import ThreadPoolExecutor

    def fetch(_):
        conn = _connect(relay.url)
        try:
            return _get(conn, url)[1]
        finally:
            conn.close()

    with ThreadPoolExecutor(8) as pool:
        assert all(body == data for body in pool.map(fetch, range(8)))


def test_https_still_serves_the_right_bytes(tmp_path):
    cert, key = _self_signed(tmp_path)
    with pytest.warns(urllib3.exceptions.InsecureRequestWarning):  # the readiness probe does not verify
        relay = RelayProcess(
            tmp_path / "relay", demo_scale=DEMO_SCALE, extra_args=["--certfile", str(cert), "--keyfile", str(key)]
        ).start()
    try:
        context = ssl.create_default_context(cafile=str(cert))
        info = _largest_package(relay.url, context)
        data = _store_bytes(relay, info["sha256"])
        conn = _connect(relay.url, context)
        resp, body = _get(conn, info["url"])
        assert resp.status == 200 and int(resp.getheader("Content-Length")) == len(data) and body == data
        resp, body = _get(conn, info["url"], {"Range": "bytes=100-1000099"})
        assert resp.status == 206 and body == data[100:1000100]
        conn.close()
    finally:
        relay.stop()


# --------------------------------------------------------------------------- the pieces


def test_sendfile_source_recognises_only_untouched_file_bodies(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    with open(path, "rb") as f:
        assert sendfile_source(SendfileWrapper(f)) == (f, 0)
        assert sendfile_source(_RangeWrapper(SendfileWrapper(f), 30, 20)) == (f, 30)
        started = _RangeWrapper(SendfileWrapper(f), 30, 20)
        next(started)  # already iterated: the server must keep iterating it
        assert sendfile_source(started) is None
    assert sendfile_source(SendfileWrapper(io.BytesIO(b"abc"))) is None  # no file descriptor
    assert sendfile_source([b"abc"]) is None


def test_send_file_range_waits_cooperatively_for_a_slow_reader(tmp_path):
    """A small send buffer and a reader greenlet: os.sendfile hits EAGAIN many times."""
    data = os.urandom(3_000_000)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    a, b = gevent.socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    received = bytearray()

    def read():
        while len(received) < 2_000_000:
            received.extend(b.recv(65536))

    reader = gevent.spawn(read)
    with open(path, "rb") as f:
        assert send_file_range(a, f, 500_000, 2_000_000) == 2_000_000
    reader.join(timeout=10)
    assert bytes(received) == data[500_000:2_500_000]
    a.close()
    b.close()


def test_send_file_range_refuses_to_send_less_than_promised(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(b"y" * 1000)
    a, b = gevent.socket.socketpair()
    with open(path, "rb") as f, pytest.raises(EOFError):
        send_file_range(a, f, 0, 5000)
    assert b.recv(5000) == b"y" * 1000
    a.close()
    b.close()
