"""Fixtures for fuzzing the relay API: one in-process relay per module, a small world in it.

The relay is the real Flask app from ``relay_server.app.create_app`` on a fresh SQLite
file (or the PostgreSQL of ``tests/with_postgres.sh``); schemathesis calls it as a WSGI
app, so no socket and no server process are involved.
"""

from __future__ import annotations

import dataclasses

import pytest
from argon2 import PasswordHasher

from relay_server import auth
from relay_server.app import close_app, create_app
from relay_server.config import RelayConfig
from relay_server.db import database
from relay_server.models import Account, Device
from tests.helpers.database import reset_database, test_database_url

PASSWORD = "fuzz password 1"


class World:
    """Accounts, devices and tokens the fuzzer acts as (``headers()`` is always a live token)."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}
        self._spare = 0

    def account(self, username: str) -> None:
        resp = self.client.post("/api/v1/accounts", json={"username": username, "password": PASSWORD})
        assert resp.status_code == 201, resp.get_json()

    def login(self, username: str, device_id: str, platform: str = "android") -> str:
        resp = self.client.post(
            "/api/v1/login",
            json={
                "username": username,
                "password": PASSWORD,
                "device": {"id": device_id, "name": device_id, "model": "Fuzz", "platform": platform},
            },
        )
        assert resp.status_code == 200, resp.get_json()
        token = resp.get_json()["token"]
        self.tokens[device_id] = token
        return token

    def issue(self, device_id: str, platform: str = "android") -> str:
        """A new token for one of ``fuzzer``'s devices straight from the product's auth module
        (re-creating the device if a fuzzed call removed it): no login, so neither the rate
        limits nor a password the fuzzer changed can get in the way."""
        with self.app.app_context(), database.connection_context():
            account = Account.get(Account.username == "fuzzer")
            device = Device.get_or_none(Device.id == device_id) or Device.create(
                id=device_id, account=account, name=device_id, model="Fuzz", platform=platform
            )
            token = auth.issue_token(device)
        self.tokens[device_id] = token
        return token

    def headers(self, device_id: str = "fuzz-laptop") -> dict:
        """A bearer header for ``device_id``; a new token if a fuzzed call revoked the old one
        (``POST /logout``, ``POST /password``, ``DELETE /devices/<own id>`` are legitimate inputs)."""
        token = self.tokens.get(device_id)
        if (
            token is None
            or self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code != 200
        ):
            token = self.issue(device_id, "linux" if device_id == "fuzz-laptop" else "android")
        return {"Authorization": f"Bearer {token}"}

    def throwaway_headers(self) -> dict:
        """A token of a fresh device, for operations that end the caller's session."""
        self._spare += 1
        return {"Authorization": f"Bearer {self.issue(f'fuzz-spare-{self._spare}')}"}


@pytest.fixture(scope="module")
def _fast_passwords_module():
    """argon2 at test strength for the whole module (the real cost is ~0.25 s per hash)."""
    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", fast)
        mp.setattr(auth, "_DUMMY_HASH", fast.hash("timing-equaliser"))
        yield


@pytest.fixture(scope="module")
def relay_app(tmp_path_factory, _fast_passwords_module):
    url = test_database_url()
    reset_database(url)
    data_dir = tmp_path_factory.mktemp("fuzz-relay")
    options = {"data_dir": data_dir, "database_url": url, "demo_scale": 0.01, "keepalive": 0.2}
    if "rate_limits" in {f.name for f in dataclasses.fields(RelayConfig)}:
        # Limits would turn most generated logins and sign-ups into 429s and hide the
        # handlers behind them from the fuzzer; they have their own tests.
        options["rate_limits"] = False
    config = RelayConfig(**options)
    app = create_app(config)
    app.config["TESTING"] = True
    yield app
    close_app(app)


@pytest.fixture(scope="module")
def world(relay_app) -> World:
    """fuzzer (laptop + phone + iPad), a friend with a phone, a pending request, some pushes."""
    w = World(relay_app)
    for name in ("fuzzer", "friend", "stranger"):
        w.account(name)
    laptop = {"Authorization": f"Bearer {w.login('fuzzer', 'fuzz-laptop', 'linux')}"}
    w.login("fuzzer", "fuzz-phone", "android")
    w.login("fuzzer", "fuzz-ipad", "ios")
    friend = {"Authorization": f"Bearer {w.login('friend', 'friend-phone', 'android')}"}
    stranger = {"Authorization": f"Bearer {w.login('stranger', 'stranger-phone', 'android')}"}
    assert w.client.post("/api/v1/friends", json={"username": "friend"}, headers=laptop).status_code == 201
    assert w.client.post("/api/v1/friends/fuzzer/accept", headers=friend).status_code == 200
    assert w.client.post("/api/v1/friends", json={"username": "fuzzer"}, headers=stranger).status_code == 201
    w.push_ids = []
    for _ in range(4):  # fuzzed cancellations and reports use some of them up
        resp = w.client.post(
            "/api/v1/pushes",
            headers=laptop,
            json={
                "app": {"id": "org.videolan.vlc"},
                "mode": "install_now",
                "device_ids": ["fuzz-phone", "friend-phone", "fuzz-ipad"],
            },
        )
        assert resp.status_code == 201, resp.get_json()
        w.push_ids += [p["id"] for p in resp.get_json()["pushes"]]
    return w
