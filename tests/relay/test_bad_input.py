"""Bad input everywhere: always a clear 4xx in the ``{"error": {"code", "message"}}`` shape,
never a 5xx, and nothing is created or changed."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay_server.db import database
from relay_server.models import Account, Device, Event, Friendship, Push, PushHistory, Token


def _assert_clean_error(resp, context, expected: int | tuple | None = None) -> None:
    """A 4xx (or exactly ``expected``) with the documented error shape."""
    status = resp.status_code
    assert status < 500, (context, status, resp.get_data()[:300])
    if expected is not None:
        allowed = expected if isinstance(expected, tuple) else (expected,)
        assert status in allowed, (context, status, resp.get_data()[:300])
    assert 400 <= status < 500, (context, status, resp.get_data()[:300])
    body = resp.get_json(silent=True)
    assert isinstance(body, dict) and set(body) == {"error"}, (context, resp.get_data()[:300])
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], context
    assert isinstance(error.get("message"), str) and error["message"], context


def _snapshot() -> dict:
    with database.connection_context():
        return {
            "accounts": Account.select().count(),
            "devices": [(d.id, d.name, d.model, d.platform) for d in Device.select().order_by(Device.id)],
            "tokens": Token.select().where(Token.revoked_at.is_null()).count(),
            "friendships": [(f.requester_id, f.addressee_id, f.status) for f in Friendship.select()],
            "pushes": [(p.id, p.state, p.bytes_done, p.bytes_total, p.detail) for p in Push.select()],
            "history": PushHistory.select().count(),
            "events": Event.select().count(),
        }


@pytest.fixture
def world(api):
    """anna (laptop, phone), a friend request to ben, one push laptop -> phone (delivered)."""
    api.account("anna")
    api.account("ben")
    laptop = api.login("anna", "anna-laptop", platform="linux")
    phone = api.login("anna", "anna-phone")
    ben = api.login("ben", "ben-phone")
    assert api.client.post("/api/v1/friends", json={"username": "ben"}, headers=laptop).status_code == 201
    push = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]
    assert api.report(phone, push["id"], "delivered").status_code == 200
    sha = push["package"]["sha256"]
    return {"laptop": laptop, "phone": phone, "ben": ben, "push_id": push["id"], "sha": sha}


# --------------------------------------------------------------------------- malformed bodies

#: Bodies that are not a JSON object at all: (raw bytes, content type).
RAW_BODIES = [
    (b"", "application/json"),
    (b"not json", "application/json"),
    (b"{", "application/json"),
    (b"{'single': 'quotes'}", "application/json"),
    (b'{"a": 1,}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"null", "application/json"),
    (b"true", "application/json"),
    (b"0", "application/json"),
    (b"-1", "application/json"),
    (b'"a string"', "application/json"),
    (b"[]", "application/json"),
    (b'[{"username": "anna"}]', "application/json"),
    (b'{"username": "zed", "password": "correct horse"}', "text/plain"),
    (b'{"username": "zed", "password": "correct horse"}', "application/x-www-form-urlencoded"),
]

#: Values of the wrong type or shape for any field.
GARBAGE = [
    None,
    "",
    [],
    {},
    0,
    -1,
    -(2**70),
    2**63,
    10**30,
    True,
    False,
    1.5,
    float("inf"),
    "x" * 100_000,
    "\u0000" * 300,
    "\U0001f4a5" * 300,
    "\ud7ff\ufffd" * 200,
    {"nested": [None, {"deeper": [[], {}]}]},
    [["device"]],
    ["a", 1, None],
]

BASE_BODIES = {
    "/api/v1/accounts": {"username": "zed", "password": "correct horse"},
    "/api/v1/login": {
        "username": "anna",
        "password": "wrong horse",
        "device": {"id": "new-device", "name": "New", "model": "M", "platform": "android"},
    },
    "/api/v1/friends": {"username": "nobody-here"},
    "/api/v1/pushes": {
        "app": {
            "id": "com.example.app",
            "name": "Example",
            "version": "1.0",
            "version_code": 1,
            "size": 10,
            "icon_url": "https://example.com/i.png",
            "runtime": "Android 8+",
            "packages": [{"format": "apk", "url": "https://example.com/a.apk", "sha256": "a" * 64, "size": 10}],
        },
        "mode": "install_now",
        "device_ids": ["anna-phone", "ben-phone"],
    },  # ben: not associated
    "events": {"state": "verifying", "bytes_done": 1, "bytes_total": 10, "detail": "ok"},  # delivered -> verifying?
}


def _paths(node, prefix=()):
    """Every (path of keys/indexes) inside a JSON body, so each can be replaced by garbage."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _replaced(body, path, value):
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


def _substituted(base):
    for path in _paths(base):
        for value in GARBAGE:
            yield path, _replaced(base, path, value)


def _post_json(client, url, body, headers):
    return client.post(url, data=json.dumps(body, allow_nan=True), content_type="application/json", headers=headers)


def _body_routes(world):
    """(url, headers, base body) of every POST route that takes a body."""
    return [
        ("/api/v1/accounts", {}, BASE_BODIES["/api/v1/accounts"]),
        ("/api/v1/login", {}, BASE_BODIES["/api/v1/login"]),
        ("/api/v1/friends", world["laptop"], BASE_BODIES["/api/v1/friends"]),
        ("/api/v1/pushes", world["laptop"], BASE_BODIES["/api/v1/pushes"]),
        (f"/api/v1/pushes/{world['push_id']}/events", world["phone"], {"state": "installing"}),
    ]


ROUTE_IDS = ["accounts", "login", "friends", "pushes", "events"]


@pytest.mark.parametrize("route", range(5), ids=ROUTE_IDS)
def test_non_object_bodies_are_400(client, world, route):
    url, headers, _ = _body_routes(world)[route]
    before = _snapshot()

    for raw, content_type in RAW_BODIES:
        resp = client.post(url, data=raw, content_type=content_type, headers=headers)
        _assert_clean_error(resp, (url, raw[:40], content_type), 400)

    assert _snapshot() == before


@pytest.mark.parametrize("route", range(5), ids=ROUTE_IDS)
def test_deeply_nested_json_is_400(client, world, route):
    """Nesting deeper than Python's JSON parser can recurse (it raises RecursionError, not ValueError)."""
    url, headers, _ = _body_routes(world)[route]
    before = _snapshot()

    for raw in [b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000]:
        resp = client.post(url, data=raw, content_type="application/json", headers=headers)
        _assert_clean_error(resp, (url, raw[:20]), 400)

    assert _snapshot() == before


@pytest.mark.parametrize("route", range(5), ids=ROUTE_IDS)
def test_two_megabyte_body_is_413(client, world, route):
    url, headers, base = _body_routes(world)[route]
    before = _snapshot()
    body = dict(base, padding="x" * 2_000_000)

    resp = _post_json(client, url, body, headers)

    _assert_clean_error(resp, url, 413)
    assert _snapshot() == before


def test_garbage_in_every_field_of_account_creation(client, world):
    before = _snapshot()
    for path, body in _substituted(BASE_BODIES["/api/v1/accounts"]):
        _assert_clean_error(_post_json(client, "/api/v1/accounts", body, {}), path, 400)
    assert _snapshot() == before


def test_garbage_in_every_field_of_login(client, world):
    before = _snapshot()
    for path, body in _substituted(BASE_BODIES["/api/v1/login"]):
        _assert_clean_error(_post_json(client, "/api/v1/login", body, {}), path, (400, 401))
    assert _snapshot() == before


def test_garbage_friend_requests(client, world):
    before = _snapshot()
    for path, body in _substituted(BASE_BODIES["/api/v1/friends"]):
        _assert_clean_error(_post_json(client, "/api/v1/friends", body, world["laptop"]), path, (400, 404))
    assert _snapshot() == before


def test_garbage_in_every_field_of_a_push(client, world):
    """Every field replaced by garbage: 400 for the bad field, or 403 for the unassociated target."""
    before = _snapshot()
    for path, body in _substituted(BASE_BODIES["/api/v1/pushes"]):
        resp = _post_json(client, "/api/v1/pushes", body, world["laptop"])
        _assert_clean_error(resp, (path, str(_value_at(body, path))[:60]), (400, 403, 404))
    assert _snapshot() == before


def _value_at(body, path):
    for key in path:
        body = body[key]
    return body


def test_garbage_in_every_field_of_a_progress_report(client, world):
    """The push is delivered; ``installing`` straight away is refused, so nothing may change."""
    before = _snapshot()
    base = {"state": "installing", "bytes_done": 1, "bytes_total": 10, "detail": "ok"}
    for path, body in _substituted(base):
        resp = _post_json(client, f"/api/v1/pushes/{world['push_id']}/events", body, world["phone"])
        _assert_clean_error(resp, (path, str(_value_at(body, path))[:60]), (400, 409))
    assert _snapshot() == before


BAD_BYTE_COUNTS = [-1, -(2**70), 2**63, 10**30, 1.5, True, "5", [5], {"n": 5}, float("nan")]


def test_bad_byte_counts_are_400_and_change_nothing(client, world, subtests):
    before = _snapshot()
    for field in ["bytes_done", "bytes_total"]:
        for value in BAD_BYTE_COUNTS:
            with subtests.test(field=field, value=str(value)[:40]):
                body = {"state": "downloading", field: value}

                resp = _post_json(client, f"/api/v1/pushes/{world['push_id']}/events", body, world["phone"])

                _assert_clean_error(resp, (field, value), 400)
                assert field in resp.get_json()["error"]["message"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1/a.apk",  # unclosed IPv6 literal
        "http://example.com:99999/a.apk",  # port out of range
        "http://example.com:-1/a.apk",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
    ],
)
def test_malformed_package_urls_are_400(client, world, url):
    before = _snapshot()
    body = {
        "app": {"id": "com.example.app", "packages": [{"format": "apk", "url": url}]},
        "mode": "install_now",
        "device_ids": ["anna-phone"],
    }

    resp = _post_json(client, "/api/v1/pushes", body, world["laptop"])

    _assert_clean_error(resp, url, 400)
    assert "url" in resp.get_json()["error"]["message"]
    assert _snapshot() == before


def test_malformed_icon_url_is_400(client, world):
    before = _snapshot()
    body = {
        "app": {"id": "org.videolan.vlc", "icon_url": "http://[oops"},
        "mode": "notify",
        "device_ids": ["anna-phone"],
    }

    resp = _post_json(client, "/api/v1/pushes", body, world["laptop"])

    _assert_clean_error(resp, "icon_url", 400)
    assert _snapshot() == before


def test_huge_package_size_is_400(client, world):
    before = _snapshot()
    body = {
        "app": {
            "id": "com.example.app",
            "packages": [{"format": "apk", "url": "https://example.com/a.apk", "size": 2**63}],
        },
        "mode": "install_now",
        "device_ids": ["anna-phone"],
    }

    resp = _post_json(client, "/api/v1/pushes", body, world["laptop"])

    _assert_clean_error(resp, "size", 400)
    assert _snapshot() == before


def test_bodyless_post_routes_ignore_garbage_bodies_safely(client, world):
    """``/logout`` and ``/friends/<u>/accept`` take no body: garbage must not crash them."""
    resp = client.post(
        "/api/v1/friends/nobody/accept", data=b"[" * 1000, content_type="application/json", headers=world["ben"]
    )
    _assert_clean_error(resp, "accept", 404)
    resp = client.post("/api/v1/logout", data=b"{oops", content_type="application/json", headers=world["ben"])
    assert resp.status_code == 204


# --------------------------------------------------------------------------- garbage in paths and queries

GARBAGE_SEGMENTS = [
    "x" * 5000,
    "%00",
    "%FF%FE",
    "..%2F..%2Fetc%2Fpasswd",
    "%F0%9F%92%A5",
    "%20",
    "null",
    "-1",
    "p_" + "0" * 24,
    "'%3B%20DROP%20TABLE%20push%3B--",
    "%25s%25s%25n",
    "a%0Ab",
]


def _get_routes(world):
    """(method, url template with {g}, headers, allowed statuses) of every route with a parameter."""
    laptop, phone = world["laptop"], world["phone"]
    return [
        ("DELETE", "/api/v1/devices/{g}", laptop, (404,)),
        ("POST", "/api/v1/friends/{g}/accept", laptop, (400, 404)),
        ("DELETE", "/api/v1/friends/{g}", laptop, (400, 404)),
        ("GET", "/api/v1/pushes/{g}", laptop, (404,)),
        ("DELETE", "/api/v1/pushes/{g}", laptop, (404,)),
        ("GET", "/api/v1/packages/{g}", phone, (404,)),
        ("GET", "/api/v1/apps/{g}", {}, (400, 404)),
        ("GET", "/api/v1/apps/{g}/package?platform=android", {}, (400, 404)),
        ("GET", "/api/v1/apps/org.fdroid.fdroid/package?platform={g}", {}, (400, 404)),
        ("GET", "/api/v1/devices?format={g}", laptop, (400,)),
        ("GET", "/api/v1/pushes?role={g}", laptop, (400,)),
        ("GET", "/api/v1/pushes?limit={g}", laptop, (400,)),
    ]


@pytest.mark.parametrize("route", range(12))
def test_garbage_path_and_query_parameters_are_clean_4xx(client, world, route):
    method, template, headers, allowed = _get_routes(world)[route]
    before = _snapshot()

    for segment in GARBAGE_SEGMENTS:
        if segment == "%20" and "format=" in template:
            continue  # a blank format is ignored, as if none was given
        url = template.format(g=segment)
        resp = client.open(url, method=method, headers=headers)
        # A NUL anywhere in the URL is refused up front as bad input, whatever the route.
        expected = (400,) if segment == "%00" else allowed
        try:
            _assert_clean_error(resp, (method, url[:80]), expected)
        finally:
            resp.close()

    assert _snapshot() == before


def test_garbage_events_path_is_404(client, world):
    for segment in GARBAGE_SEGMENTS:
        resp = _post_json(client, f"/api/v1/pushes/{segment}/events", {"state": "delivered"}, world["phone"])
        _assert_clean_error(resp, segment, 400 if segment == "%00" else 404)


def test_query_garbage_on_the_catalog_is_harmless(client, world):
    for query in ["%25", "_", "'", "\\", "%F0%9F%92%A5"]:
        assert client.get(f"/api/v1/apps?q={query}").status_code == 200
        assert client.get(f"/?q={query}").status_code == 200
    _assert_clean_error(client.get("/api/v1/apps?q=%00"), "q", 400)  # NUL is refused everywhere
    assert client.get("/?q=%00").status_code == 400
    _assert_clean_error(client.get("/api/v1/apps?q=" + "x" * 201), "q", 400)


def test_bad_last_event_id_is_400_before_the_stream_starts(client, world, subtests):
    for last_event_id in ["abc", "-1", "1.5", "9" * 40, "1e3", "0x10"]:
        with subtests.test(last_event_id=last_event_id):
            resp = client.get(
                "/api/v1/stream", headers={**world["phone"], "Last-Event-ID": last_event_id}, buffered=False
            )
            try:
                assert resp.status_code == 400, "the stream must not start"  # never read an endless body
                _assert_clean_error(resp, last_event_id, 400)
            finally:
                resp.close()


def test_unknown_api_path_and_wrong_method_are_json_errors(client, world):
    _assert_clean_error(client.get("/api/v1/nothing-here"), "unknown path", 404)
    resp = client.put("/api/v1/pushes", json={}, headers=world["laptop"])
    _assert_clean_error(resp, "wrong method", 405)
    assert "GET" in resp.headers["Allow"] and "POST" in resp.headers["Allow"]


# --------------------------------------------------------------------------- property tests

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)
_PUSH_KEYS = st.sampled_from(
    [
        "app",
        "mode",
        "device_ids",
        "id",
        "name",
        "version",
        "version_code",
        "size",
        "icon_url",
        "runtime",
        "description",
        "packages",
        "format",
        "url",
        "sha256",
    ]
)
_EVENT_KEYS = st.sampled_from(["state", "bytes_done", "bytes_total", "detail"])
_STATES = st.sampled_from(
    [
        "delivered",
        "downloading",
        "paused",
        "verifying",
        "installing",
        "installed",
        "failed",
        "declined",
        "waiting_for_wifi",
        "already_installed",
        "queued",
        "sent",
    ]
)
_PLAUSIBLE_PUSH = st.recursive(
    _JSON
    | st.sampled_from(
        [
            "install_now",
            "notify",
            "anna-phone",
            "org.videolan.vlc",
            "apk",
            "ipa",
            "https://example.com/a.apk",
            "http://[::1",
            "/files/x/y.apk",
            "a" * 64,
        ]
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_PUSH_KEYS, children, max_size=8),
    max_leaves=30,
)
_PLAUSIBLE_EVENT = (
    st.dictionaries(_EVENT_KEYS, _JSON | _STATES | st.integers(min_value=-10, max_value=2**64), max_size=4) | _JSON
)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_PLAUSIBLE_PUSH)
def test_random_json_to_create_pushes_never_5xx(client, world, body):
    resp = _post_json(client, "/api/v1/pushes", body, world["laptop"])

    assert resp.status_code < 500, (body, resp.get_data()[:300])
    if resp.status_code >= 400:
        _assert_clean_error(resp, body)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_PLAUSIBLE_EVENT)
def test_random_json_to_push_events_never_5xx(client, world, body):
    resp = _post_json(client, f"/api/v1/pushes/{world['push_id']}/events", body, world["phone"])

    assert resp.status_code < 500, (body, resp.get_data()[:300])
    if resp.status_code >= 400:
        _assert_clean_error(resp, body)
