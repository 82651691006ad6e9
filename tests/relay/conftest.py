"""Fixtures for relay tests: an in-process app on a fresh SQLite file, and API helpers."""

from __future__ import annotations

import itertools

import pytest
from argon2 import PasswordHasher

from relay_server import auth
from relay_server.app import close_app, create_app
from relay_server.config import RelayConfig
from tests.helpers.database import reset_database, test_database_url

_counter = itertools.count()


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch):
    """argon2 at test strength (the real cost is ~0.25 s per hash); behaviour is the same."""
    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", fast)
    monkeypatch.setattr(auth, "_DUMMY_HASH", fast.hash("timing-equaliser"))


@pytest.fixture
def relay_config(tmp_path) -> RelayConfig:
    """A fresh relay: its own data dir, and an empty database (SQLite file or PostgreSQL)."""
    url = test_database_url()
    reset_database(url)
    # Tests create many accounts from one address; rate limits have their own tests.
    return RelayConfig(data_dir=tmp_path / "relay", database_url=url, demo_scale=0.01, keepalive=0.2,
                       rate_limits=False)


@pytest.fixture
def app(relay_config):
    relay_config.data_dir.mkdir(parents=True, exist_ok=True)
    application = create_app(relay_config)
    application.config["TESTING"] = True
    yield application
    close_app(application)


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """Small helpers over the Flask test client, in the product's words."""

    def __init__(self, client):
        self.client = client

    def account(self, username: str | None = None, password: str = "correct horse") -> str:
        username = username or f"user{next(_counter)}"
        resp = self.client.post("/api/v1/accounts", json={"username": username, "password": password})
        assert resp.status_code == 201, resp.get_json()
        return username

    def login(self, username: str, device_id: str, platform: str = "android", password: str = "correct horse",
              name: str | None = None, model: str = "Model X") -> dict:
        resp = self.client.post("/api/v1/login", json={
            "username": username, "password": password,
            "device": {"id": device_id, "name": name or device_id, "model": model, "platform": platform}})
        assert resp.status_code == 200, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['token']}"}

    def befriend(self, a: str, a_auth: dict, b: str, b_auth: dict) -> None:
        assert self.client.post("/api/v1/friends", json={"username": b}, headers=a_auth).status_code == 201
        assert self.client.post(f"/api/v1/friends/{a}/accept", headers=b_auth).status_code == 200

    def push(self, auth: dict, device_ids, app=None, mode="install_now"):
        return self.client.post("/api/v1/pushes", headers=auth, json={
            "app": app or {"id": "org.videolan.vlc"}, "mode": mode, "device_ids": list(device_ids)})

    def report(self, auth: dict, push_id: str, state: str, **extra):
        return self.client.post(f"/api/v1/pushes/{push_id}/events", headers=auth, json={"state": state, **extra})


@pytest.fixture
def api(client) -> Api:
    return Api(client)
