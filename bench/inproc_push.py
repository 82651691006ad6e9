"""The push path's CPU in-process, without an HTTP server: ``python -m bench.inproc_push [--count 2000]``.

Calls the relay's WSGI app directly (a prepared environ, no test client) for each phase of one
push: ``POST /api/v1/pushes`` (one target), the target's stream reading and rendering its
event (what ``GET /stream`` does when woken), and the device's acknowledgement
(``POST /pushes/<id>/events {"state": "delivered"}``). Prints CPU microseconds per phase
(``time.process_time``: only this process, so other work on the machine barely shows).
One thread, no gevent: group commit and the HTTP server are not in these figures.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path


def _environ(method: str, path: str, token: str, body: bytes = b"") -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8765",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8765",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _call(app, environ) -> tuple[str, bytes]:
    status = []
    body = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    return status[0], body


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc_push", description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args(argv)

    from relay_server import events
    from relay_server.app import close_app, create_app
    from relay_server.config import RelayConfig
    from relay_server.db import connection

    tmp = Path(tempfile.mkdtemp(prefix="appbeam-inproc-"))
    app = create_app(RelayConfig(data_dir=tmp, demo_catalog=False, rate_limits=False))
    client = app.test_client()
    client.post("/api/v1/accounts", json={"username": "bench", "password": "bench password 123"})
    tokens = {}
    for device, platform in (("laptop", "linux"), ("phone", "android")):
        answer = client.post(
            "/api/v1/login",
            json={
                "username": "bench",
                "password": "bench password 123",
                "device": {"id": device, "name": device, "model": "bench", "platform": platform},
            },
        )
        tokens[device] = answer.get_json()["token"]
    body = json.dumps(
        {
            "app": {
                "id": "org.example.bench",
                "name": "Bench App",
                "version": "1.0",
                "version_code": 1,
                "packages": [
                    {"format": "apk", "url": "http://127.0.0.1:9/bench.apk", "sha256": "ab" * 32, "size": 1234567}
                ],
            },
            "mode": "install_now",
            "device_ids": ["phone"],
        }
    ).encode()
    ack = json.dumps({"state": "delivered"}).encode()
    relay = app.extensions["appbeam_relay"]
    sub = relay.hub.subscribe("phone")  # the phone is online: pushes go out at once
    with connection():
        cursor = events.latest_id("phone")
    spent = {"create": 0.0, "stream": 0.0, "ack": 0.0}
    clock = time.process_time
    for k in range(args.count + 100):  # the first 100 warm up
        t0 = clock()
        status, out = _call(app, _environ("POST", "/api/v1/pushes", tokens["laptop"], body))
        t1 = clock()
        assert status.startswith("201"), (status, out)
        push_id = json.loads(out)["pushes"][0]["id"]
        with connection():
            rows = events.newer_than("phone", cursor)
            texts = [events.render(e, "http://127.0.0.1:8765/") for e in rows]
        cursor = rows[-1].id
        assert push_id in texts[-1]
        t2 = clock()
        status, out = _call(app, _environ("POST", f"/api/v1/pushes/{push_id}/events", tokens["phone"], ack))
        t3 = clock()
        assert status.startswith("200"), (status, out)
        if k >= 100:
            spent["create"] += t1 - t0
            spent["stream"] += t2 - t1
            spent["ack"] += t3 - t2
    relay.hub.unsubscribe(sub)
    close_app(app)
    per = {k: round(v * 1e6 / args.count) for k, v in spent.items()}
    print(
        f"CPU per push, in-process, {args.count} pushes: create {per['create']} us, stream {per['stream']} us, "
        f"ack {per['ack']} us, total {sum(per.values())} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
