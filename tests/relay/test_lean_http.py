"""The lean HTTP front (relay_server/lean_http.py) speaks HTTP/1.1 the way pywsgi did: keep-alive
and pipelining, HTTP/1.0, HEAD, Expect: 100-continue, chunked bodies, oversize bodies, bad
requests, and header names with underscores dropped. Both servers answer these the same way."""

from __future__ import annotations

import json
import socket

import pytest

from shared.relay_client import DeviceInfo, RelayClient
from tests.helpers.relay_process import RelayProcess


@pytest.fixture(scope="module", params=["lean", "pywsgi"])
def relay(request, tmp_path_factory):
    data = tmp_path_factory.mktemp(f"relay-{request.param}")
    with RelayProcess(
        data, extra_args=["--http-server", request.param], env={"APPBEAM_MAX_REQUEST_BYTES": "2000"}
    ) as process:
        yield process


def _connect(relay) -> socket.socket:
    return socket.create_connection(("127.0.0.1", relay.port), timeout=30)


def _read_answer(sock: socket.socket, buffer: bytearray, head_only: bool = False) -> tuple[bytes, dict, bytes]:
    """One answer (status line, headers, body) read from ``buffer`` + the socket."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, bytes(buffer)
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}
    del buffer[: len(head) + 4]
    if b"content-length" in headers and not head_only:
        length = int(headers[b"content-length"])
        while len(buffer) < length:
            buffer += sock.recv(65536)
        body = bytes(buffer[:length])
        del buffer[:length]
    else:
        body = b""
    return status, headers, body


def test_keep_alive_and_pipelined_requests_get_answers_in_order(relay):
    sock = _connect(relay)
    buffer = bytearray()
    try:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n"  # then, pipelined:
            b"GET /api/v1/nothing-here HTTP/1.1\r\nHost: relay\r\n\r\n"
        )
        first = _read_answer(sock, buffer)
        second = _read_answer(sock, buffer)
        assert first[0] == b"HTTP/1.1 200 OK" and isinstance(json.loads(first[2]), dict)
        assert second[0].startswith(b"HTTP/1.1 404")
        sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        status, headers, _ = _read_answer(sock, bytearray(), head_only=True)
        assert status == b"HTTP/1.1 200 OK" and int(headers[b"content-length"]) > 0
        assert b"date" in headers
    finally:
        sock.close()


def test_http_1_0_closes_after_the_answer(relay):
    sock = _connect(relay)
    try:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        assert data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n")[0]
    finally:
        sock.close()


def test_expect_100_continue_gets_its_interim_answer(relay):
    body = json.dumps({"username": f"expect-{relay.port}", "password": "correct horse"}).encode()
    sock = _connect(relay)
    try:
        sock.sendall(
            b"POST /api/v1/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        status, _, answer = _read_answer(sock, bytearray())
        assert status.startswith(b"HTTP/1.1 201"), answer
    finally:
        sock.close()


def test_a_body_over_the_limit_is_refused_413_without_being_read(relay):
    sock = _connect(relay)
    try:
        sock.sendall(
            b"POST /api/v1/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000\r\n\r\n{"
        )
        status, _, body = _read_answer(sock, bytearray())
        assert status.startswith(b"HTTP/1.1 413"), body
    finally:
        sock.close()


def test_a_malformed_request_is_400_and_closed(relay):
    sock = _connect(relay)
    try:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        assert data.startswith(b"HTTP/1.1 400") or data.startswith(b"HTTP/1.0 400")
    finally:
        sock.close()


def test_a_header_name_with_an_underscore_never_reaches_the_app(relay):
    # "Last_Event_ID" and "Last-Event-ID" would both become HTTP_LAST_EVENT_ID: the underscore
    # one is dropped, so this bad value cannot stand in for the real header (no 400 for it).
    client = RelayClient(relay.url)
    name = f"under-{relay.port}"
    client.create_account(name, "correct horse")
    client.login(name, "correct horse", DeviceInfo(f"{name}-phone", "Phone", "Pixel", "android"))
    sock = _connect(relay)
    try:
        sock.sendall(
            b"HEAD /api/v1/stream HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer %s\r\n"
            b"Last_Event_ID: not-a-number\r\n\r\n" % client.token.encode()
        )
        status, _, _ = _read_answer(sock, bytearray(), head_only=True)
        assert status.startswith(b"HTTP/1.1 200"), status
        sock.sendall(
            b"HEAD /api/v1/stream HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer %s\r\n"
            b"Last-Event-ID: not-a-number\r\n\r\n" % client.token.encode()
        )
        status, _, _ = _read_answer(sock, bytearray(), head_only=True)
        assert status.startswith(b"HTTP/1.1 400"), status  # the real header does reach it
    finally:
        sock.close()


def test_endless_headers_are_refused_not_kept(relay):
    sock = _connect(relay)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n")
        try:
            for i in range(200):  # 200 x 1 KB: past any sane limit for a request's head
                sock.sendall(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000))
        except OSError:
            pass  # the server may hang up before all of it is sent
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass  # closed with our unread headers still queued: the answer may be lost to the reset
        # The connection ends (it is not kept while the headers pile up), with 431/400 if anything.
        assert not data or data.split(b" ")[1] in (b"431", b"400"), data[:80]
    finally:
        sock.close()
