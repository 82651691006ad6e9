"""The push path's hot routes (``relay_server.hot_routes``) answer exactly as the Flask routes do.

Each request below goes once through the relay as it serves (``app.wsgi_app``: the hot routes,
then Flask for anything else) and once through Flask alone (``app.wsgi_app.flask``), on the same
relay and database; the answers must be the same: status, headers, and body (push ids and times
aside, since each request makes its own push). A spy checks which requests skipped Flask.
"""

from __future__ import annotations

import errno
import json
import logging
import re

import pytest
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.test import Client

from relay_server import pushes
from relay_server.db import database
from relay_server.hot_routes import HotRoutes

APP = {
    "id": "com.example.hot",
    "name": "Hot",
    "version": "1.0",
    "version_code": 1,
    "packages": [{"format": "apk", "url": "https://example.com/hot.apk", "sha256": "b" * 64, "size": 10}],
}


@pytest.fixture
def world(api):
    """anna's laptop and phone, ben's phone (a stranger to anna)."""
    api.account("anna")
    api.account("ben")
    return {
        "laptop": api.login("anna", "anna-laptop", platform="linux"),
        "phone": api.login("anna", "anna-phone"),
        "ben": api.login("ben", "ben-phone"),
    }


@pytest.fixture
def both(app, world):
    """(serving, flask_only, flask_calls): two clients of one relay (with its world), and the paths
    Flask was asked for from then on.

    anna's phone is online (as on the hot path), so its pushes go out at once: a queued push would
    start a mirror copy, whose failure (no outside network) changes the push while the two
    answers are being compared."""
    relay = app.extensions["appbeam_relay"]
    online = relay.hub.subscribe("anna-phone")
    hot = app.wsgi_app
    assert isinstance(hot, HotRoutes)
    calls = []
    flask = hot.flask

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return flask(environ, start_response)

    hot.flask = counted
    yield Client(app), Client(flask), calls
    hot.flask = flask
    relay.hub.unsubscribe(online)


_VOLATILE = re.compile(r'"(id|push_id|created_at|updated_at|at|acknowledged_at)":"[^"]*"')
_PUSH_ID = re.compile(r"p_[0-9a-f]{24}")


def _same(resp_a, resp_b) -> None:
    assert resp_a.status == resp_b.status
    assert sorted(resp_a.headers.items()) == sorted(resp_b.headers.items())
    body_a, body_b = (
        _PUSH_ID.sub("p_…", _VOLATILE.sub(r'"\1":"…"', r.get_data(as_text=True))) for r in (resp_a, resp_b)
    )
    assert body_a == body_b


def _push_body(device_ids, **extra) -> dict:
    return {"app": APP, "mode": "install_now", "device_ids": device_ids, **extra}


def _new_push(client, world) -> str:
    resp = client.post("/api/v1/pushes", headers=world["laptop"], json=_push_body(["anna-phone"]))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["pushes"][0]["id"]


CREATE_CASES = {
    "made": (_push_body(["anna-phone"]), {}, 201),
    "stranger's device": (_push_body(["ben-phone"]), {}, 403),
    "no such device": (_push_body(["nobody"]), {}, 403),
    "to itself": (_push_body(["anna-laptop"]), {}, 403),
    "bad mode, in Chinese": (_push_body(["anna-phone"], mode="now!"), {"Accept-Language": "zh-CN"}, 400),
    "no app": ({"mode": "install_now", "device_ids": ["anna-phone"]}, {}, 400),
    "not an object": ([1, 2], {}, 400),
    "NUL in a field": (_push_body(["anna-phone\x00"]), {}, 400),
}


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_a_push_is_answered_the_same_without_flask(both, world, case):
    serving, flask_only, flask_calls = both
    body, headers, status = CREATE_CASES[case]
    answers = [
        c.post("/api/v1/pushes", headers={**world["laptop"], **headers}, json=body) for c in (serving, flask_only)
    ]
    assert answers[0].status_code == status, answers[0].get_json()
    _same(*answers)
    assert flask_calls == []  # the hot route answered


RAW_CASES = {
    "not JSON": b"{not json",
    "empty": b"",
    "nested too deeply": b"[" * 100_000 + b"]" * 100_000,
    "lone surrogate": b'{"app": {"id": "\\ud800"}, "mode": "install_now", "device_ids": ["anna-phone"]}',
    "Latin-1 bytes": b'{"app": "\xe9"}',
}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_a_malformed_body_is_refused_the_same_without_flask(both, world, case):
    serving, flask_only, flask_calls = both
    raw = RAW_CASES[case]
    headers = {**world["laptop"], "Content-Type": "application/json"}
    answers = [c.post("/api/v1/pushes", headers=headers, data=raw) for c in (serving, flask_only)]
    assert answers[0].status_code == 400
    assert answers[0].get_json()["error"]["code"] == "invalid_json"
    _same(*answers)
    if raw:  # (an empty body comes without a Content-Length from this client: Flask's)
        assert flask_calls == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}, {"Accept-Language": "zh"}],
    ids=["none", "unknown token", "other scheme", "none, in Chinese"],
)
def test_a_caller_without_a_valid_token_gets_the_same_401(both, world, headers):
    serving, flask_only, flask_calls = both
    answers = [
        c.post("/api/v1/pushes", headers=headers, json=_push_body(["anna-phone"])) for c in (serving, flask_only)
    ]
    assert answers[0].status_code == 401
    assert "WWW-Authenticate" in answers[0].headers
    _same(*answers)


#: who reports, what, the status expected, and what the phone reported before (if anything)
REPORT_CASES = {
    "delivered": ("phone", {"state": "delivered"}, 200, None),
    "progress": ("phone", {"state": "downloading", "bytes_done": 5, "bytes_total": 10}, 200, "delivered"),
    "repeated acknowledgement": ("phone", {"state": "delivered"}, 200, "downloading"),
    "impossible change": ("phone", {"state": "downloading"}, 409, "installed"),
    "unknown state": ("phone", {"state": "teleported"}, 400, None),
    "negative bytes, in Chinese": ("phone", {"state": "downloading", "bytes_done": -1}, 400, None),
    "by the sender": ("laptop", {"state": "delivered"}, 403, None),
    "by a stranger": ("ben", {"state": "delivered"}, 404, None),
}


@pytest.mark.parametrize("case", list(REPORT_CASES))
def test_a_report_is_answered_the_same_without_flask(both, world, case):
    serving, flask_only, flask_calls = both
    who, body, status, before = REPORT_CASES[case]
    headers = {**world[who], "Accept-Language": "zh-CN" if "Chinese" in case else "en"}
    answers = []
    for client in (serving, flask_only):
        push_id = _new_push(client, world)  # one push each, in the same state
        if before is not None:
            said = client.post(f"/api/v1/pushes/{push_id}/events", headers=world["phone"], json={"state": before})
            assert said.status_code == 200
        answers.append(client.post(f"/api/v1/pushes/{push_id}/events", headers=headers, json=body))
    assert answers[0].status_code == status, answers[0].get_json()
    _same(*answers)
    assert flask_calls == []


def test_a_report_on_an_unknown_push_is_the_same_404(both, world):
    serving, flask_only, flask_calls = both
    answers = [
        c.post("/api/v1/pushes/no-such-push/events", headers=world["phone"], json={"state": "delivered"})
        for c in (serving, flask_only)
    ]
    assert answers[0].status_code == 404
    _same(*answers)
    assert flask_calls == []


def test_the_pushed_app_reaches_the_phone_from_the_hot_route(both, world, api):
    serving, _, flask_calls = both
    push_id = _new_push(serving, world)
    assert flask_calls == []
    message = api.first_push_message(world["phone"])
    assert message["push_id"] == push_id
    assert message["app"]["id"] == APP["id"]
    assert message["package"]["sha256"] == "b" * 64
    ack = serving.post(f"/api/v1/pushes/{push_id}/events", headers=world["phone"], json={"state": "delivered"})
    assert ack.get_json()["state"] == "delivered"


UNUSUAL = {
    "trailing slash": ("/api/v1/pushes/", {}, None),
    "query string": ("/api/v1/pushes?x=1", {}, None),
    "form body": ("/api/v1/pushes", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1"),
    "text body": ("/api/v1/pushes", {"Content-Type": "text/plain"}, json.dumps(_push_body(["anna-phone"])).encode()),
    "push id with a dot": ("/api/v1/pushes/a.b/events", {}, None),
    "push id with a space": ("/api/v1/pushes/a%20b/events", {}, None),
}


@pytest.mark.parametrize("case", list(UNUSUAL))
def test_an_unusual_request_goes_to_flask_and_is_answered_as_before(both, world, case):
    serving, flask_only, flask_calls = both
    path, headers, raw = UNUSUAL[case]
    kwargs = {"data": raw} if raw is not None else {"json": _push_body(["anna-phone"])}
    answers = [c.post(path, headers={**world["laptop"], **headers}, **kwargs) for c in (serving, flask_only)]
    assert len(flask_calls) == 1
    _same(*answers)


def test_other_methods_on_the_hot_paths_go_to_flask(both, world):
    serving, _, flask_calls = both
    assert serving.get("/api/v1/pushes", headers=world["laptop"]).status_code == 200
    assert serving.put("/api/v1/pushes", headers=world["laptop"], json={}).status_code == 405
    assert flask_calls == ["/api/v1/pushes", "/api/v1/pushes"]


FAILURES = {
    "disk full": (OSError(errno.ENOSPC, "No space left on device"), 507, "storage_full"),
    "no database connection free": (MaxConnectionsExceeded("Exceeded maximum connections."), 503, "busy"),
    "a bug": (RuntimeError("a bug in the relay"), 500, "internal_error"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failure_is_answered_and_logged_the_same_without_flask(both, world, monkeypatch, caplog, case):
    serving, flask_only, flask_calls = both
    error, status, code = FAILURES[case]

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(pushes, "create", failing)
    answers, logged = [], []
    for client in (serving, flask_only):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="relay_server"):
            answers.append(client.post("/api/v1/pushes", headers=world["laptop"], json=_push_body(["anna-phone"])))
        logged.append([(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records])
        assert database.is_closed()  # the request's connection went back to the pool
    assert answers[0].status_code == status
    assert answers[0].get_json()["error"]["code"] == code
    _same(*answers)
    assert logged[0] == logged[1] and logged[0]
    assert flask_calls == []


def test_with_trusted_hosts_set_every_request_goes_to_flask(both, world, app):
    serving, _, flask_calls = both
    app.config["TRUSTED_HOSTS"] = ["relay.example"]
    try:
        refused = serving.post("/api/v1/pushes", headers=world["laptop"], json=_push_body(["anna-phone"]))
    finally:
        app.config["TRUSTED_HOSTS"] = None
    assert refused.status_code == 400  # Flask's answer to a host it does not trust
    assert flask_calls == ["/api/v1/pushes"]


def test_the_app_has_only_the_hooks_the_hot_routes_repeat(app):
    """The hot routes do by hand what the app's hooks do (take and give back the database
    connection); a new hook must be repeated in relay_server/hot_routes.py, or the two busiest
    routes would skip it. Then add it to this list."""

    def names(registry) -> dict:
        return {key: [f.__name__ for f in funcs] for key, funcs in registry.items() if key in (None, "api") and funcs}

    assert names(app.before_request_funcs) == {None: ["_open_db"]}
    assert names(app.after_request_funcs) == {}
    assert names(app.teardown_request_funcs) == {None: ["_close_db"]}
    assert names(app.url_value_preprocessors) == {}
    assert names(app.url_default_functions) == {}
