"""shared/responses.py: closing a response wakes a thread blocked reading it at once."""

from __future__ import annotations

import socket
import threading
import time

import requests

from shared.responses import abort_response


def test_abort_wakes_a_reader_blocked_on_a_silent_connection():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []

    def serve() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        # ... and nothing more: the reader blocks

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    session = requests.Session()
    try:
        resp = session.get(f"http://127.0.0.1:{port}/", stream=True, timeout=(5, 60))
        outcome: list[object] = []

        def read() -> None:
            try:
                outcome.append(resp.raw.read1(100))
            except Exception as exc:  # noqa: BLE001 - any way out of the read is an outcome
                outcome.append(exc)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(0.3)
        assert reader.is_alive(), "the reader should be blocked on the silent connection"
        started = time.monotonic()
        abort_response(resp)
        reader.join(5)
        assert not reader.is_alive() and outcome
        assert time.monotonic() - started < 5
        abort_response(resp)  # again: nothing left to shut down, no error
    finally:
        session.close()
        for conn in accepted:
            conn.close()
        listener.close()
        server.join(5)
