"""Fixtures for relay tests: an in-process app on a fresh SQLite file, and API helpers."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from relay_server import auth
from relay_server.app import close_app, create_app
from relay_server.config import RelayConfig
from tests.helpers.database import reset_database, test_database_url
from tests.helpers.relay_api import Api


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
    return RelayConfig(data_dir=tmp_path / "relay", database_url=url, demo_scale=0.01, keepalive=0.2, rate_limits=False)


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


@pytest.fixture
def api(client) -> Api:
    return Api(client)
