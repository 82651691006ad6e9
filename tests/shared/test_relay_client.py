"""RelayClient against a small local HTTP server: errors, URLs, headers, redirects."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from shared.api_messages import Health
from shared.messages import InstallInfo
from shared.relay_client import USER_AGENT, DeviceInfo, RelayClient
from shared.relay_errors import RelayError, RelayUnavailable
from tests.helpers.messages import device_json, push_json

HEALTH = {"status": "ok", "version": "0.1.0", "database": "sqlite"}
ME = {"account": {"username": "anna"}, "device": device_json()}

# --------------------------------------------------------------------------- errors


def test_error_body_becomes_relay_error(server, client):
    server.app = lambda h: h.error(409, "bad_transition", "cannot go from installed to downloading")
    with pytest.raises(RelayError) as info:
        client.report("p_1", "downloading")
    err = info.value
    assert type(err) is RelayError
    assert (err.status, err.code, err.message) == (409, "bad_transition", "cannot go from installed to downloading")
    assert err.retry_after is None
    assert not err.transient
    assert str(err) == "cannot go from installed to downloading (bad_transition, HTTP 409)"


@pytest.mark.parametrize(
    "status, transient",
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (413, False),
        (422, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
    ],
)
def test_transient_only_for_overload_and_server_errors(server, client, status, transient):
    server.app = lambda h: h.error(status, "some_code", "some message")
    with pytest.raises(RelayError) as info:
        client.me()
    assert info.value.status == status
    assert info.value.code == "some_code"
    assert info.value.transient is transient


@pytest.mark.parametrize(
    "body, content_type, expected_message",
    [
        ("<html><h1>502 Bad Gateway</h1></html>", "text/html", "<html><h1>502 Bad Gateway</h1></html>"),
        ("  upstream timed out \n", "text/plain", "upstream timed out"),
        ('{"error": "flat string"}', "application/json", '{"error": "flat string"}'),
        ('{"error": {"code": "x"}}', "application/json", '{"error": {"code": "x"}}'),
        ('["error"]', "application/json", '["error"]'),
        ('{"detail": "nope"}', "application/json", '{"detail": "nope"}'),
        ("{broken json", "application/json", "{broken json"),
        ("x" * 1000, "text/plain", "x" * 300),
    ],
)
def test_error_bodies_that_are_not_the_protocols_shape_still_give_relay_error(
    server, client, body, content_type, expected_message
):
    server.app = lambda h: h.reply(502, body, content_type=content_type)
    with pytest.raises(RelayError) as info:
        client.health()
    err = info.value
    assert (err.status, err.code, err.message) == (502, "http_error", expected_message)
    assert err.transient


def test_empty_error_body_uses_the_reason_phrase(server, client):
    server.app = lambda h: h.reply(404, b"", content_type="text/plain")
    with pytest.raises(RelayError) as info:
        client.app("org.nope")
    assert (info.value.status, info.value.code, info.value.message) == (404, "http_error", "Not Found")


@pytest.mark.parametrize(
    "header, expected",
    [
        ("7", 7.0),
        ("1.5", 1.5),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_retry_after_is_parsed(server, client, header, expected):
    headers = {"Retry-After": header} if header is not None else {}
    server.app = lambda h: h.error(429, "rate_limited", "slow down", headers=headers)
    with pytest.raises(RelayError) as info:
        client.devices()
    assert info.value.retry_after == expected
    assert info.value.code == "rate_limited"
    assert info.value.transient


def test_retry_after_also_on_a_non_json_503(server, client):
    server.app = lambda h: h.reply(503, "busy", content_type="text/plain", headers={"Retry-After": "3"})
    with pytest.raises(RelayError) as info:
        client.health()
    assert (info.value.code, info.value.message, info.value.retry_after) == ("http_error", "busy", 3.0)


def test_connection_refused_is_relay_unavailable(free_port):
    client = RelayClient(f"http://127.0.0.1:{free_port}", "tok", timeout=2)
    try:
        with pytest.raises(RelayUnavailable) as info:
            client.health()
        err = info.value
        assert isinstance(err, RelayError)
        assert err.status is None
        assert err.code == "unavailable"
        assert err.transient is True
        assert f"127.0.0.1:{free_port}" in err.message
        assert str(err).endswith("(unavailable)")  # no "HTTP None"
        with pytest.raises(RelayUnavailable):
            client.package_url_for("org.videolan.vlc", "android")
    finally:
        client.session.close()


def test_timeout_is_relay_unavailable(server, make_client):
    server.app = lambda h: (h.hold(3), h.reply(200, {}))
    client = make_client(timeout=0.3)
    with pytest.raises(RelayUnavailable) as info:
        client.health()
    assert info.value.status is None and info.value.transient


# --------------------------------------------------------------------------- bodies


def test_204_gives_none(server, client):
    server.app = lambda h: h.reply(204)
    assert client.request("POST", "/logout") is None
    assert client.remove_device("phone-1") is None
    assert [r.method for r in server.recorded] == ["POST", "DELETE"]
    assert server.recorded[1].path == "/api/v1/devices/phone-1"


def test_empty_200_gives_none(server, client):
    server.app = lambda h: h.reply(200, b"")
    assert client.request("GET", "/me") is None


def test_json_body_is_read_into_its_shape(server, client):
    server.app = lambda h: h.reply(200, HEALTH)
    assert client.health() == Health("ok", "0.1.0", "sqlite")
    assert server.recorded[0].path == "/healthz"


def test_an_answer_of_another_shape_is_bad_response_naming_the_field(server, client):
    server.app = lambda h: h.reply(200, {"devices": [device_json(online="yes")]})
    with pytest.raises(RelayError) as info:
        client.devices()
    assert (info.value.status, info.value.code) == (200, "bad_response")
    assert "devices[0].online" in info.value.message


def test_non_json_success_is_bad_response(server, client):
    server.app = lambda h: h.reply(200, "<html>captive portal</html>", content_type="text/html")
    with pytest.raises(RelayError) as info:
        client.me()
    assert (info.value.status, info.value.code) == (200, "bad_response")
    assert not isinstance(info.value, RelayUnavailable)


def test_requests_carry_json_bodies_and_query_parameters(server, client):
    server.app = lambda h: h.reply(
        200, push_json("p_1") if "/events" in h.path else {"devices": [], "pushes": [push_json("p_1")], "apps": []}
    )
    client.devices(["apk", "ipa"])
    client.push(InstallInfo(id="org.videolan.vlc"), "notify", iter(["phone-1", "tablet-1"]))
    client.report("p_1", "downloading", bytes_done=5, bytes_total=10)
    client.report("p_1", "failed", detail="no space")
    client.pushes("received")
    client.apps("vlc")
    client.apps()
    devices, push, progress, failed, pushes, apps, all_apps = server.recorded
    assert parse_qs(urlsplit(devices.path).query) == {"format": ["apk", "ipa"]}
    assert (push.method, push.path) == ("POST", "/api/v1/pushes")
    assert push.header("Content-Type") == "application/json"
    assert push.json == {
        "app": InstallInfo(id="org.videolan.vlc").to_dict(),
        "mode": "notify",
        "device_ids": ["phone-1", "tablet-1"],
    }
    assert progress.path == "/api/v1/pushes/p_1/events"
    assert progress.json == {"state": "downloading", "bytes_done": 5, "bytes_total": 10}
    assert failed.json == {"state": "failed", "detail": "no space"}
    assert pushes.path == "/api/v1/pushes?role=received"
    assert apps.path == "/api/v1/apps?q=vlc"
    assert all_apps.path == "/api/v1/apps"


def test_push_and_report_validate_before_sending(server, client):
    with pytest.raises(ValueError):
        client.push({"id": "a"}, "shout", ["phone-1"])
    with pytest.raises(ValueError):
        client.report("p_1", "exploded")
    assert server.recorded == []


# --------------------------------------------------------------------------- URLs


def test_url_of_api_paths_files_and_absolute_urls():
    client = RelayClient("http://relay.test:8765/")
    assert client.base_url == "http://relay.test:8765/"
    assert client.url("/devices") == "http://relay.test:8765/api/v1/devices"
    assert client.url("/api/v1/devices") == "http://relay.test:8765/api/v1/devices"
    assert client.url("/api/v1/packages/abc") == "http://relay.test:8765/api/v1/packages/abc"
    assert client.url("/files/abc/vlc.apk") == "http://relay.test:8765/files/abc/vlc.apk"
    assert client.url("/static/icons/vlc.png") == "http://relay.test:8765/static/icons/vlc.png"
    assert client.url("https://cdn.example/vlc.apk") == "https://cdn.example/vlc.apk"
    assert client.url("http://cdn.example/vlc.apk?x=1") == "http://cdn.example/vlc.apk?x=1"


def test_url_keeps_a_base_path_and_adds_no_double_slash():
    for base in ("http://h/relay", "http://h/relay/", "http://h/relay//"):
        client = RelayClient(base)
        assert client.url("/devices") == "http://h/relay/api/v1/devices", base
        assert client.url("/files/a/b.apk") == "http://h/relay/files/a/b.apk", base


def test_absolute_url_resolves_what_the_relay_gave():
    client = RelayClient("http://relay.test:8765")
    assert client.absolute_url("/api/v1/packages/abc") == "http://relay.test:8765/api/v1/packages/abc"
    assert client.absolute_url("/files/abc/vlc.apk") == "http://relay.test:8765/files/abc/vlc.apk"
    assert client.absolute_url("https://cdn.example/vlc.apk") == "https://cdn.example/vlc.apk"
    assert client.absolute_url("http://relay.test:8765/files/x") == "http://relay.test:8765/files/x"


# --------------------------------------------------------------------------- headers


def test_authorization_sent_only_with_a_token(server, make_client):
    server.app = lambda h: h.reply(200, HEALTH if h.path == "/healthz" else ME)
    anonymous = make_client()
    anonymous.health()
    make_client("tok-abc").me()
    anonymous_req, authed_req = server.recorded
    assert anonymous_req.header("Authorization") is None
    assert authed_req.header("Authorization") == "Bearer tok-abc"
    assert anonymous_req.header("User-Agent") == authed_req.header("User-Agent") == USER_AGENT


def test_login_keeps_the_token_and_logout_drops_it(server, make_client):
    def app(h):
        if h.path.endswith("/login"):
            h.reply(200, {"token": "fresh", **ME})
        elif h.path.endswith("/logout"):
            h.reply(204)
        else:
            h.reply(200, HEALTH if h.path == "/healthz" else ME)

    server.app = app
    client = make_client()
    device = DeviceInfo("phone-1", "Anna's Pixel", "Pixel 8", "android")
    client.login("anna", "secret123", device)
    assert client.token == "fresh"
    client.me()
    client.logout()
    assert client.token is None
    client.health()
    login, me, logout, health = server.recorded
    assert login.header("Authorization") is None
    assert login.json == {
        "username": "anna",
        "password": "secret123",
        "device": {
            "id": "phone-1",
            "name": "Anna's Pixel",
            "model": "Pixel 8",
            "platform": "android",
            "public_key": client.key.public_key,
        },
    }
    assert me.header("Authorization") == "Bearer fresh"
    assert logout.header("Authorization") == "Bearer fresh"
    assert health.header("Authorization") is None


def test_failed_login_keeps_no_token(server, make_client):
    server.app = lambda h: h.error(401, "bad_credentials", "wrong username or password")
    client = make_client()
    with pytest.raises(RelayError) as info:
        client.login("anna", "nope", DeviceInfo("p", "n", "m", "android"))
    assert info.value.code == "bad_credentials"
    assert client.token is None


# --------------------------------------------------------------------------- download by app id


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_package_url_for_follows_the_redirect_without_fetching(server, client, status):
    def app(h):
        if h.path.startswith("/api/v1/apps/"):
            h.reply(status, b"", content_type="text/plain", headers={"Location": "/files/abc123/vlc-3.6.0.apk"})
        else:
            h.reply(200, b"PACKAGE BYTES", content_type="application/vnd.android.package-archive")

    server.app = app
    url = client.package_url_for("org.videolan.vlc", "android")
    assert url == f"{server.url}/files/abc123/vlc-3.6.0.apk"
    assert len(server.recorded) == 1  # the package itself was not downloaded
    req = server.recorded[0]
    assert req.method == "GET"
    assert urlsplit(req.path).path == "/api/v1/apps/org.videolan.vlc/package"
    assert parse_qs(urlsplit(req.path).query) == {"platform": ["android"]}
    assert req.header("Authorization") == "Bearer tok-123"


def test_package_url_for_keeps_an_absolute_location(server, client, free_port):
    elsewhere = f"http://127.0.0.1:{free_port}/vlc.apk"  # nobody listens: fetching would fail
    server.app = lambda h: h.reply(302, b"", headers={"Location": elsewhere})
    assert client.package_url_for("org.videolan.vlc", "android") == elsewhere


def test_package_url_for_without_a_package_is_relay_error(server, client):
    server.app = lambda h: h.error(404, "no_package_for_platform", "iOS installs ipa, pxl, deb; this app comes as apk")
    with pytest.raises(RelayError) as info:
        client.package_url_for("org.videolan.vlc", "ios")
    assert (info.value.status, info.value.code) == (404, "no_package_for_platform")
    assert "iOS installs" in info.value.message
