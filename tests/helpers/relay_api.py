"""Helpers over a Flask test client of the relay, in the product's words."""

from __future__ import annotations

import itertools
import json

_counter = itertools.count()


class Api:
    """Small helpers over the Flask test client, in the product's words."""

    def __init__(self, client):
        self.client = client

    def account(self, username: str | None = None, password: str = "correct horse") -> str:
        username = username or f"user{next(_counter)}"
        resp = self.client.post("/api/v1/accounts", json={"username": username, "password": password})
        assert resp.status_code == 201, resp.get_json()
        return username

    def login(
        self,
        username: str,
        device_id: str,
        platform: str = "android",
        password: str = "correct horse",
        name: str | None = None,
        model: str = "Model X",
        public_key: str | None = None,
    ) -> dict:
        device = {"id": device_id, "name": name or device_id, "model": model, "platform": platform}
        if public_key is not None:
            device["public_key"] = public_key
        resp = self.client.post("/api/v1/login", json={"username": username, "password": password, "device": device})
        assert resp.status_code == 200, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['token']}"}

    def befriend(self, a: str, a_auth: dict, b: str, b_auth: dict) -> None:
        assert self.client.post("/api/v1/friends", json={"username": b}, headers=a_auth).status_code == 201
        assert self.client.post(f"/api/v1/friends/{a}/accept", headers=b_auth).status_code == 200

    def push(self, auth: dict, device_ids, app=None, mode="install_now", signatures: dict | None = None):
        body = {"app": app or {"id": "org.videolan.vlc"}, "mode": mode, "device_ids": list(device_ids)}
        if signatures is not None:
            body["signatures"] = signatures
        return self.client.post("/api/v1/pushes", headers=auth, json=body)

    def first_push_message(self, auth: dict) -> dict:
        """The first ``push`` event on a device's stream (replayed from the log)."""
        stream = self.client.get("/api/v1/stream?last_event_id=0", headers=auth, buffered=False)
        try:
            text = ""
            for chunk in stream.response:
                text += chunk.decode() if isinstance(chunk, bytes) else chunk
                for block in text.split("\n\n"):
                    lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
                    if lines.get("event") == "push":
                        return json.loads(lines["data"])
        finally:
            stream.close()
        raise AssertionError("the stream ended without a push")

    def report(self, auth: dict, push_id: str, state: str, **extra):
        return self.client.post(f"/api/v1/pushes/{push_id}/events", headers=auth, json={"state": state, **extra})


def mirror_statuses(push_ids) -> dict[str, str]:
    """Where the relay's copy of each push's package stands (none, pending, done, failed)."""
    from relay_server.db import database
    from relay_server.models import Push

    with database.connection_context():
        return {p.id: p.mirror_status for p in Push.select().where(Push.id.in_(list(push_ids)))}
