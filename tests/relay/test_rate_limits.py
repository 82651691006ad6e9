"""Rate limits: guessing passwords, making accounts and flooding pushes get 429 with Retry-After."""

from __future__ import annotations

import pytest

from relay_server.app import close_app, create_app


@pytest.fixture
def limited(relay_config):
    config = relay_config.with_(
        rate_limits=True,
        limit_login_per_account="3/minute",
        limit_login_failures="3/minute",
        limit_login_per_address="5/minute",
        limit_accounts_per_address="4/hour",
        limit_pushes_per_device="3/minute",
    )
    app = create_app(config)
    yield app.test_client()
    close_app(app)


def _login(client, username, password="correct horse", device="d1"):
    return client.post(
        "/api/v1/login",
        json={
            "username": username,
            "password": password,
            "device": {"id": device, "name": device, "model": "m", "platform": "android"},
        },
    )


def test_password_guessing_on_one_account_is_stopped(limited):
    limited.post("/api/v1/accounts", json={"username": "anna", "password": "correct horse"})
    answers = [_login(limited, "anna", password=f"guess {i}").status_code for i in range(4)]
    assert answers == [401, 401, 401, 429]
    blocked = _login(limited, "anna")  # even the right password waits now
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert blocked.get_json()["error"]["code"] == "too_many_requests"


def test_logins_from_one_address_are_limited_across_accounts(limited):
    for name in ("anna", "ben"):
        limited.post("/api/v1/accounts", json={"username": name, "password": "correct horse"})
    answers = [_login(limited, name, device=f"d{i}").status_code for i, name in enumerate(["anna", "ben"] * 3)]
    assert answers[:5] == [200] * 5 and answers[5] == 429


def test_account_creation_per_address_is_limited(limited):
    answers = [
        limited.post("/api/v1/accounts", json={"username": f"user{i}", "password": "correct horse"}).status_code
        for i in range(5)
    ]
    assert answers == [201, 201, 201, 201, 429]


def test_push_flood_from_one_device_is_limited_and_nothing_is_created(limited):
    limited.post("/api/v1/accounts", json={"username": "anna", "password": "correct horse"})
    token = _login(limited, "anna", device="anna-laptop").get_json()["token"]
    _login(limited, "anna", device="anna-phone")
    headers = {"Authorization": f"Bearer {token}"}
    body = {"app": {"id": "org.videolan.vlc"}, "mode": "notify", "device_ids": ["anna-phone"]}

    answers = [limited.post("/api/v1/pushes", json=body, headers=headers).status_code for _ in range(4)]

    assert answers == [201, 201, 201, 429]
    assert len(limited.get("/api/v1/pushes?role=sent", headers=headers).get_json()["pushes"]) == 3
