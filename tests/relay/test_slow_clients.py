"""Slow clients cost the relay a socket, nothing more (issue 11, item 1).

Forty sockets announce a 1,000-byte body and send one byte, or trickle their headers. Before
the fix each slow body held one of the 32 pooled database connections, so health checks,
logins and pushes waited 30 s and then failed with 500. Now the relay reads the whole
request before the application (and its database) sees it, answers 408 once the deadline
passes, and serves everyone else meanwhile.
"""

from __future__ import annotations

import socket

import pytest
import requests

from shared.relay_client import DeviceInfo, RelayClient
from tests.helpers.relay_process import RelayProcess

SLOW = 40  # more than the relay's 32 pooled database connections


@pytest.fixture
def relay(tmp_path):
    env = {"APPBEAM_BODY_TIMEOUT": "4", "APPBEAM_HEADER_TIMEOUT": "4"}
    with RelayProcess(tmp_path / "relay", env=env) as process:
        yield process


def _open(relay, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", relay.port), timeout=60)
    sock.sendall(first_bytes)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the relay sends before it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _slow_bodies(relay) -> list[socket.socket]:
    head = (
        b"POST /api/v1/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    return [_open(relay, head) for _ in range(SLOW)]


def _slow_headers(relay) -> list[socket.socket]:
    return [_open(relay, b"GET /healthz HTTP/1.1\r\nHost: rel") for _ in range(SLOW)]


@pytest.mark.parametrize("make_slow", [_slow_bodies, _slow_headers], ids=["slow bodies", "slow headers"])
def test_everyone_else_is_served_while_slow_clients_hang(relay, make_slow):
    slow = make_slow(relay)
    try:
        # Everything below happens while all the slow sockets are still waiting.
        health = requests.get(f"{relay.url}/healthz", timeout=60)
        laptop = RelayClient(relay.url)
        laptop.create_account("anna", "correct horse")
        laptop.login("anna", "correct horse", DeviceInfo("anna-laptop", "Laptop", "ThinkPad", "linux"))
        phone = RelayClient(relay.url)
        phone.login("anna", "correct horse", DeviceInfo("anna-phone", "Phone", "Pixel 8", "android"))
        pushed = laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])

        assert health.status_code == 200
        assert pushed[0].state == "queued"

        # Then each slow client is told, in the relay's JSON, and disconnected.
        answers = [_answer(sock) for sock in slow]
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), {a[:40] for a in answers}
        assert all(b'"request_timeout"' in a for a in answers)
    finally:
        for sock in slow:
            sock.close()


def test_a_body_that_arrives_whole_but_slowly_within_the_deadline_is_served(relay):
    body = b'{"username": "slowpoke", "password": "correct horse"}'
    sock = _open(
        relay,
        b"POST /api/v1/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body),
    )
    try:
        for i in range(0, len(body), 10):
            sock.sendall(body[i : i + 10])
        assert _answer(sock).startswith(b"HTTP/1.1 201")
    finally:
        sock.close()


def test_a_chunked_body_is_read_like_any_other(relay):
    body = b'{"username": "chunky", "password": "correct horse"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 7]), body[i : i + 7]) for i in range(0, len(body), 7))
    sock = _open(
        relay,
        b"POST /api/v1/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n",
    )
    try:
        assert _answer(sock).startswith(b"HTTP/1.1 201")
    finally:
        sock.close()
