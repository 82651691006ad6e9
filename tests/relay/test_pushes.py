"""Pushes through the HTTP API: creating [2, 3, 9-11], listing, progress reports, cancelling."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import pytest

from relay_server.app import close_app, create_app
from relay_server.db import database
from relay_server.models import Event, Push, PushHistory
from shared.protocol import (
    DEVICE_REPORTED_STATES,
    FINAL_STATES,
    TRANSITIONS,
    UNACKNOWLEDGED_STATES,
    PushState,
)

S = PushState


def _error(resp) -> dict:
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    return body["error"]


@pytest.fixture
def fam(api):
    """anna: laptop (sender), phone (android), ipad (ios); her friend ben; stranger eve."""
    for name in ("anna", "ben", "eve"):
        api.account(name)
    auths = {
        "laptop": api.login("anna", "anna-laptop", platform="linux", name="Anna's laptop"),
        "phone": api.login("anna", "anna-phone", platform="android", name="Anna's Pixel"),
        "ipad": api.login("anna", "anna-ipad", platform="ios", name="Anna's iPad"),
        "ben": api.login("ben", "ben-phone", platform="android", name="Ben's phone"),
        "eve": api.login("eve", "eve-phone", platform="android", name="Eve's phone"),
    }
    api.befriend("anna", auths["laptop"], "ben", auths["ben"])
    return auths


def _push(api, fam, device="anna-phone", **kw) -> dict:
    resp = api.push(fam["laptop"], [device], **kw)
    assert resp.status_code == 201, resp.get_json()
    (push,) = resp.get_json()["pushes"]
    return push


def _catalog_app(client, app_id="org.videolan.vlc") -> dict:
    resp = client.get(f"/api/v1/apps/{app_id}")
    assert resp.status_code == 200
    return resp.get_json()


def _counts() -> tuple[int, int]:
    with database.connection_context():
        return Push.select().count(), Event.select().where(Event.kind == "push").count()


def _events(device_id: str, kind: str | None = None) -> list[Event]:
    with database.connection_context():
        query = Event.select().where(Event.device == device_id)
        if kind:
            query = query.where(Event.kind == kind)
        return list(query.order_by(Event.id))


# --------------------------------------------------------------------------- creating


def test_push_by_catalog_app_id_fills_packages_from_the_catalog(client, api, fam):
    catalog = _catalog_app(client)

    push = _push(api, fam)

    assert push["id"].startswith("p_")
    assert push["app"]["id"] == "org.videolan.vlc"
    assert push["app"]["name"] == "VLC"
    assert push["app"]["version"] == catalog["version"]
    assert {p["format"]: p["sha256"] for p in push["app"]["packages"]} == {
        p["format"]: p["sha256"] for p in catalog["packages"]
    }
    apk = next(p for p in catalog["packages"] if p["format"] == "apk")
    assert push["format"] == "apk"
    assert push["package"] == {"format": "apk", "url": apk["url"], "sha256": apk["sha256"], "size": apk["size"]}
    assert len(push["package"]["sha256"]) == 64
    assert push["device_id"] == "anna-phone"
    assert push["device_name"] == "Anna's Pixel"
    assert push["owner"] == "anna"
    assert push["sender"] == {"username": "anna", "device_id": "anna-laptop", "device_name": "Anna's laptop"}
    assert push["mode"] == push["requested_mode"] == "install_now"
    assert push["state"] == "queued"
    assert push["bytes_done"] is None and push["bytes_total"] is None
    assert push["created_at"].endswith("+00:00")


def test_ipad_gets_the_ipa_of_the_same_app(api, fam):
    push = _push(api, fam, device="anna-ipad")

    assert push["format"] == "ipa"
    assert push["package"]["url"].endswith(".ipa")


def test_catalog_push_to_offline_device_is_queued_for_the_device_at_once(client, api, fam):
    """The relay already keeps catalog packages: no copy is needed, the push waits in the log."""
    push = _push(api, fam)

    events = _events("anna-phone", "push")
    assert [e.push_id for e in events] == [push["id"]]
    with database.connection_context():
        assert Push.get_by_id(push["id"]).mirror_status == "none"


def test_push_to_online_device_is_sent_with_the_original_url(client, api, fam):
    stream = client.get("/api/v1/stream", headers=fam["phone"], buffered=False)
    try:
        next(iter(stream.response))
        push = _push(
            api,
            fam,
            app={
                "id": "com.example.app",
                "packages": [{"format": "apk", "url": "https://downloads.example.com/app.apk"}],
            },
        )
    finally:
        stream.close()

    assert push["state"] == "sent"
    assert push["package"]["url"] == "https://downloads.example.com/app.apk"
    assert push["mirrored"] is False
    with database.connection_context():
        assert Push.get_by_id(push["id"]).mirror_status == "none"


def test_explicit_outside_package_to_offline_device_is_queued_and_mirror_pending(client, api, fam, app):
    relay = app.extensions["appbeam_relay"]
    relay.mirror.stop()  # hold the worker so the pending copy can be seen
    try:
        push = _push(
            api,
            fam,
            app={
                "id": "com.example.app",
                "name": "Example",
                "packages": [{"format": "apk", "url": "http://127.0.0.1:9/example.apk", "size": 1234}],
            },
        )

        assert push["state"] == "queued"
        assert push["mirrored"] is False
        assert push["package"]["url"] == "http://127.0.0.1:9/example.apk"
        assert push["app"]["name"] == "Example"
        with database.connection_context():
            assert Push.get_by_id(push["id"]).mirror_status == "pending"
        assert _events("anna-phone", "push") == [], "the push waits for the relay's copy"
    finally:
        relay.mirror.start()


def test_loopback_package_cannot_be_mirrored_and_push_goes_out_with_original_url(client, api, fam, app):
    """Default config refuses loopback URLs (SSRF guard): mirror failed, detail says why."""
    push = _push(
        api,
        fam,
        app={"id": "com.example.app", "packages": [{"format": "apk", "url": "http://127.0.0.1:9/example.apk"}]},
    )

    assert app.extensions["appbeam_relay"].mirror.wait_idle()

    shown = client.get(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).get_json()
    assert shown["state"] == "queued"
    assert shown["mirrored"] is False
    assert shown["package"]["url"] == "http://127.0.0.1:9/example.apk"
    assert "could not keep a copy" in shown["detail"]
    assert "non-public address" in shown["detail"]
    assert shown["history"][-1]["detail"] == shown["detail"]
    with database.connection_context():
        assert Push.get_by_id(push["id"]).mirror_status == "failed"
    assert [e.push_id for e in _events("anna-phone", "push")] == [push["id"]], "delivered with the original URL"


class _OnePackage(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def private_mirror(relay_config):
    """A relay that may mirror loopback URLs, and a loopback server with one package."""
    config = relay_config.with_(mirror_allow_private=True)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    application = create_app(config)
    application.config["TESTING"] = True
    body = hashlib.sha256(b"seed").digest() * 2000
    handler = type("Handler", (_OnePackage,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield application, f"http://127.0.0.1:{server.server_port}/example.apk", body
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        close_app(application)


def test_offline_push_is_mirrored_and_points_at_the_relays_copy(private_mirror):
    from tests.helpers.relay_api import Api

    application, url, body = private_mirror
    client = application.test_client()
    api = Api(client)
    api.account("anna")
    laptop = api.login("anna", "anna-laptop", platform="linux")
    phone = api.login("anna", "anna-phone")
    sha = hashlib.sha256(body).hexdigest()

    resp = api.push(
        laptop,
        ["anna-phone"],
        app={"id": "com.example.app", "packages": [{"format": "apk", "url": url, "sha256": sha}]},
    )
    assert resp.status_code == 201
    push_id = resp.get_json()["pushes"][0]["id"]
    assert application.extensions["appbeam_relay"].mirror.wait_idle()

    shown = client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()
    assert shown["mirrored"] is True
    assert shown["package"]["url"] == f"/api/v1/packages/{sha}"
    assert shown["package"]["size"] == len(body)
    download = client.get(f"/api/v1/packages/{sha}", headers=phone)
    try:
        assert download.status_code == 200
        assert download.data == body
    finally:
        download.close()


def test_multiple_targets_get_one_push_each(api, fam):
    resp = api.push(fam["laptop"], ["anna-phone", "anna-ipad", "ben-phone"])

    assert resp.status_code == 201
    pushes = resp.get_json()["pushes"]
    assert [p["device_id"] for p in pushes] == ["anna-phone", "anna-ipad", "ben-phone"]
    assert [p["format"] for p in pushes] == ["apk", "ipa", "apk"]
    assert len({p["id"] for p in pushes}) == 3


@pytest.mark.parametrize(
    "targets, status, code",
    [
        (["anna-phone", "eve-phone"], 403, "not_associated"),
        (["anna-phone", "no-such-device"], 403, "not_associated"),
        (["anna-phone", "anna-laptop"], 403, "not_associated"),  # the sender itself
        (["ben-phone", "anna-ipad"], 422, "no_compatible_package"),
    ],
)
def test_one_bad_target_means_nothing_is_created(client, api, fam, targets, status, code):
    resp = api.push(fam["laptop"], targets, app={"id": "org.fdroid.fdroid"})

    assert resp.status_code == status
    assert _error(resp)["code"] == code
    assert _counts() == (0, 0)
    assert client.get("/api/v1/pushes?role=received", headers=fam["ben"]).get_json()["pushes"] == []


def test_friends_device_always_gets_a_notice(api, fam):
    resp = api.push(fam["laptop"], ["anna-phone", "ben-phone"], mode="install_now")

    by_device = {p["device_id"]: p for p in resp.get_json()["pushes"]}
    assert by_device["anna-phone"]["mode"] == "install_now"
    assert by_device["ben-phone"]["mode"] == "notify"
    assert by_device["ben-phone"]["requested_mode"] == "install_now"
    assert by_device["ben-phone"]["owner"] == "ben"


def test_notify_to_own_device_stays_notify(api, fam):
    assert _push(api, fam, mode="notify")["mode"] == "notify"


def test_friend_can_push_back_but_only_as_a_notice(api, fam):
    resp = api.push(fam["ben"], ["anna-phone"], mode="install_now")

    assert resp.status_code == 201
    assert resp.get_json()["pushes"][0]["mode"] == "notify"


def test_incompatible_device_is_422_with_the_reason(api, fam):
    resp = api.push(fam["laptop"], ["anna-ipad"], app={"id": "org.fdroid.fdroid"})

    assert resp.status_code == 422
    error = _error(resp)
    assert error["code"] == "no_compatible_package"
    assert "Anna's iPad" in error["message"]
    assert "iOS installs ipa, pxl, deb; this app comes as apk" in error["message"]


def test_unknown_app_without_packages_is_404(api, fam):
    resp = api.push(fam["laptop"], ["anna-phone"], app={"id": "com.unknown.app", "name": "Nope"})

    assert resp.status_code == 404
    assert _error(resp)["code"] == "unknown_app"
    assert _counts() == (0, 0)


def test_unknown_app_with_packages_is_accepted(api, fam):
    push = _push(
        api,
        fam,
        app={
            "id": "com.unknown.app",
            "packages": [{"format": "apk", "url": "https://example.com/a.apk", "sha256": "A" * 64, "size": 5}],
        },
    )

    assert push["package"] == {"format": "apk", "url": "https://example.com/a.apk", "sha256": "a" * 64, "size": 5}


INVALID_PUSH_REQUESTS = [
    ({"mode": "install_now", "device_ids": ["anna-phone"]}, "app"),
    ({"app": "org.videolan.vlc", "mode": "install_now", "device_ids": ["anna-phone"]}, "app"),
    ({"app": {"id": ""}, "mode": "install_now", "device_ids": ["anna-phone"]}, "app.id"),
    ({"app": {"id": "has space"}, "mode": "install_now", "device_ids": ["anna-phone"]}, "app.id"),
    ({"app": {"id": "x" * 201}, "mode": "install_now", "device_ids": ["anna-phone"]}, "app.id"),
    ({"app": {"id": "a.b", "packages": "apk"}, "mode": "notify", "device_ids": ["anna-phone"]}, "app.packages"),
    (
        {
            "app": {"id": "a.b", "packages": [{"format": "zip", "url": "https://e.com/a.zip"}]},
            "mode": "notify",
            "device_ids": ["anna-phone"],
        },
        "app.packages[0].format",
    ),
    (
        {
            "app": {"id": "a.b", "packages": [{"format": "apk", "url": "ftp://e.com/a.apk"}]},
            "mode": "notify",
            "device_ids": ["anna-phone"],
        },
        "app.packages[0].url",
    ),
    (
        {"app": {"id": "a.b", "packages": [{"format": "apk"}]}, "mode": "notify", "device_ids": ["anna-phone"]},
        "app.packages[0].url",
    ),
    (
        {
            "app": {"id": "a.b", "packages": [{"format": "apk", "url": "https://e.com/a", "sha256": "abc"}]},
            "mode": "notify",
            "device_ids": ["anna-phone"],
        },
        "app.packages[0].sha256",
    ),
    (
        {
            "app": {"id": "a.b", "packages": [{"format": "apk", "url": "https://e.com/a", "size": -1}]},
            "mode": "notify",
            "device_ids": ["anna-phone"],
        },
        "app.packages[0].size",
    ),
    (
        {
            "app": {
                "id": "a.b",
                "packages": [{"format": "apk", "url": "https://e.com/a"}, {"format": "apk", "url": "https://e.com/b"}],
            },
            "mode": "notify",
            "device_ids": ["anna-phone"],
        },
        "app.packages",
    ),
    ({"app": {"id": "org.videolan.vlc"}, "device_ids": ["anna-phone"]}, "mode"),
    ({"app": {"id": "org.videolan.vlc"}, "mode": "silent", "device_ids": ["anna-phone"]}, "mode"),
    ({"app": {"id": "org.videolan.vlc"}, "mode": "install_now"}, "device_ids"),
    ({"app": {"id": "org.videolan.vlc"}, "mode": "install_now", "device_ids": []}, "device_ids"),
    ({"app": {"id": "org.videolan.vlc"}, "mode": "install_now", "device_ids": "anna-phone"}, "device_ids"),
    ({"app": {"id": "org.videolan.vlc"}, "mode": "install_now", "device_ids": [""]}, "device_ids"),
    ({"app": {"id": "org.videolan.vlc"}, "mode": "install_now", "device_ids": [7]}, "device_ids"),
    ({"app": {"id": "org.videolan.vlc"}, "mode": "install_now", "device_ids": ["anna-phone"] * 51}, "device_ids"),
    (
        {"app": {"id": "org.videolan.vlc"}, "mode": "install_now", "device_ids": [f"d{i}" for i in range(51)]},
        "device_ids",
    ),
]


def test_invalid_push_request_is_400_naming_the_field(api, fam, subtests):
    for body, field in INVALID_PUSH_REQUESTS:
        with subtests.test(field=field, body=json.dumps(body)[:120]):
            resp = api.client.post("/api/v1/pushes", json=body, headers=fam["laptop"])

            assert resp.status_code == 400, resp.get_json()
            assert field in _error(resp)["message"]
            assert _counts() == (0, 0)


def test_duplicate_device_ids_collapse_into_one_push(api, fam):
    resp = api.push(fam["laptop"], ["anna-phone", "anna-phone", "anna-phone"])

    assert resp.status_code == 201
    assert [p["device_id"] for p in resp.get_json()["pushes"]] == ["anna-phone"]
    assert _counts() == (1, 1)


# --------------------------------------------------------------------------- listing and showing


def test_list_sent_and_received_newest_first(client, api, fam):
    first = _push(api, fam)
    second = _push(api, fam, app={"id": "org.fdroid.fdroid"})
    to_ben = _push(api, fam, device="ben-phone")

    sent = client.get("/api/v1/pushes?role=sent", headers=fam["laptop"]).get_json()["pushes"]
    default = client.get("/api/v1/pushes", headers=fam["laptop"]).get_json()["pushes"]
    received = client.get("/api/v1/pushes?role=received", headers=fam["phone"]).get_json()["pushes"]

    assert [p["id"] for p in sent] == [to_ben["id"], second["id"], first["id"]]
    assert default == sent
    assert [p["id"] for p in received] == [second["id"], first["id"]]
    assert client.get("/api/v1/pushes?role=sent", headers=fam["phone"]).get_json()["pushes"] == []
    assert [p["id"] for p in client.get("/api/v1/pushes?role=received", headers=fam["ben"]).get_json()["pushes"]] == [
        to_ben["id"]
    ]
    assert client.get("/api/v1/pushes?role=received", headers=fam["ipad"]).get_json()["pushes"] == []


def test_list_limit(client, api, fam):
    for _ in range(3):
        _push(api, fam)

    resp = client.get("/api/v1/pushes?role=sent&limit=2", headers=fam["laptop"])

    assert resp.status_code == 200
    assert len(resp.get_json()["pushes"]) == 2
    assert len(client.get("/api/v1/pushes?limit=1000", headers=fam["laptop"]).get_json()["pushes"]) == 3


BAD_LIST_QUERIES = [
    ("role=both", "role"),
    ("role=", "role"),
    ("limit=0", "limit"),
    ("limit=1001", "limit"),
    ("limit=-5", "limit"),
    ("limit=abc", "limit"),
    ("limit=1.5", "limit"),
    ("limit=", "limit"),
    ("limit=99999999999999999999999", "limit"),
]


def test_list_with_bad_role_or_limit_is_400(client, fam, subtests):
    for query, field in BAD_LIST_QUERIES:
        with subtests.test(query=query):
            resp = client.get(f"/api/v1/pushes?{query}", headers=fam["laptop"])

            assert resp.status_code == 400
            assert field in _error(resp)["message"]


def test_show_push_with_history_for_sender_and_target(client, api, fam):
    push = _push(api, fam)
    api.report(fam["phone"], push["id"], "delivered")

    for who in ("laptop", "phone"):
        resp = client.get(f"/api/v1/pushes/{push['id']}", headers=fam[who])
        assert resp.status_code == 200
        shown = resp.get_json()
        assert shown["id"] == push["id"]
        assert shown["state"] == "delivered"
        assert [h["state"] for h in shown["history"]] == ["queued", "delivered"]
        assert all(h["at"].endswith("+00:00") for h in shown["history"])


def test_show_push_is_404_for_anyone_but_sender_and_target(client, api, fam, subtests):
    push = _push(api, fam)
    for who in ["ipad", "ben", "eve"]:
        with subtests.test(who=who):
            resp = client.get(f"/api/v1/pushes/{push['id']}", headers=fam[who])

            assert resp.status_code == 404
            assert _error(resp)["code"] == "unknown_push"


def test_show_unknown_push_is_404(client, fam):
    assert client.get("/api/v1/pushes/p_000000000000000000000000", headers=fam["laptop"]).status_code == 404


# --------------------------------------------------------------------------- reporting progress


def test_only_the_target_reports(client, api, fam):
    push = _push(api, fam)

    by_sender = api.report(fam["laptop"], push["id"], "delivered")
    by_stranger = api.report(fam["eve"], push["id"], "delivered")
    by_other_own_device = api.report(fam["ipad"], push["id"], "delivered")

    assert by_sender.status_code == 403
    assert _error(by_sender)["code"] == "not_target"
    assert by_stranger.status_code == 404
    assert by_other_own_device.status_code == 404
    assert client.get(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).get_json()["state"] == "queued"


def test_report_on_unknown_push_is_404(api, fam):
    assert api.report(fam["phone"], "p_nope", "delivered").status_code == 404


LEGAL_PATHS = [
    ["delivered", "downloading", "paused", "downloading", "verifying", "installing", "installed"],
    [
        "delivered",
        "waiting_for_wifi",
        "downloading",
        "waiting_for_wifi",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ],
    ["delivered", "downloading", "failed", "downloading", "verifying", "installing", "installed"],
    [
        "delivered",
        "downloading",
        "failed",
        "failed",
        "waiting_for_wifi",
        "paused",
        "downloading",
        "verifying",
        "failed",
        "downloading",
        "verifying",
        "installing",
        "failed",
        "declined",
    ],
    ["delivered", "already_installed"],
    ["already_installed"],
    ["downloading", "verifying", "installing", "installed"],
    ["installed"],
    ["delivered", "declined"],
    ["delivered", "paused", "declined"],
    ["delivered", "verifying", "installing", "installed"],
    ["failed", "waiting_for_wifi", "declined"],
    ["delivered", "waiting_for_wifi", "paused", "waiting_for_wifi", "failed", "declined"],
    ["delivered", "failed", "downloading", "declined"],
    ["delivered", "downloading", "paused", "failed", "declined"],
    # a retry that must first ask about mobile data reports paused (shared.protocol.Situation)
    ["delivered", "downloading", "failed", "paused", "downloading", "verifying", "installing", "installed"],
    # Download again on the phone re-opens its own declined push (shared.protocol.REOPENABLE_STATES)
    ["delivered", "downloading", "declined", "downloading", "verifying", "installing", "installed"],
    ["delivered", "declined", "waiting_for_wifi", "downloading", "declined"],
    ["delivered", "declined", "paused", "downloading", "verifying", "installing", "installed"],
]


def test_every_step_of_a_legal_path_is_accepted_and_recorded(client, api, fam, subtests):
    for path in LEGAL_PATHS:
        with subtests.test(path="-".join(path)):
            push = _push(api, fam)
            for state in path:
                resp = api.report(fam["phone"], push["id"], state, detail=f"now {state}")
                assert resp.status_code == 200, (state, resp.get_json())
                assert resp.get_json()["state"] == state

            shown = client.get(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).get_json()
            assert shown["state"] == path[-1]
            assert [h["state"] for h in shown["history"]] == ["queued", *path]
            assert shown["history"][-1]["detail"] == f"now {path[-1]}"


def test_legal_paths_cover_every_transition_a_device_can_make():
    """The table above walks every edge of TRANSITIONS that a device can report."""
    walked = set()
    for path in LEGAL_PATHS:
        previous = S.QUEUED
        for state in path:
            walked.add((previous, S(state)))
            previous = S(state)
    device_edges = {
        (a, b) for a, targets in TRANSITIONS.items() for b in targets if b in DEVICE_REPORTED_STATES and a is not S.SENT
    }
    # Same-state reports of states other than downloading/failed are no-ops, not edges.
    device_edges -= {(S.DOWNLOADING, S.DOWNLOADING)}
    missing = device_edges - walked
    # Every device-reported state is allowed straight from queued; one walk per first step is enough.
    missing -= {(S.QUEUED, b) for b in DEVICE_REPORTED_STATES}
    assert not missing, sorted(missing)


def _reach(api, fam, state: PushState) -> dict:
    """A fresh push to anna-phone brought into ``state``."""
    if state is S.SENT:
        stream = api.client.get("/api/v1/stream", headers=fam["phone"], buffered=False)
        try:
            next(iter(stream.response))
            push = _push(api, fam)
        finally:
            stream.close()
        assert push["state"] == "sent"
        return push
    push = _push(api, fam)
    steps = {
        S.QUEUED: [],
        S.DELIVERED: ["delivered"],
        S.WAITING_FOR_WIFI: ["delivered", "waiting_for_wifi"],
        S.DOWNLOADING: ["delivered", "downloading"],
        S.PAUSED: ["delivered", "downloading", "paused"],
        S.VERIFYING: ["delivered", "downloading", "verifying"],
        S.INSTALLING: ["delivered", "downloading", "verifying", "installing"],
        S.INSTALLED: ["delivered", "downloading", "verifying", "installing", "installed"],
        S.ALREADY_INSTALLED: ["already_installed"],
        S.DECLINED: ["declined"],
        S.FAILED: ["delivered", "downloading", "failed"],
        S.CANCELLED: [],
    }[state]
    for step in steps:
        assert api.report(fam["phone"], push["id"], step).status_code == 200
    if state is S.CANCELLED:
        assert api.client.delete(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).status_code == 200
    return push


def _expected_status(current: PushState, new: PushState) -> int:
    """What docs/api.md and TRANSITIONS say a report of ``new`` in ``current`` answers."""
    if new is S.DELIVERED and current not in UNACKNOWLEDGED_STATES and current not in FINAL_STATES:
        return 200  # a repeated acknowledgement
    if new is current:
        return 200
    return 200 if new in TRANSITIONS[current] else 409


@pytest.mark.parametrize("current", [s for s in PushState if s is not S.EXPIRED], ids=str)
def test_report_answers_follow_the_transition_table(client, api, fam, current):
    for new in sorted(DEVICE_REPORTED_STATES):
        push = _reach(api, fam, current)
        resp = api.report(fam["phone"], push["id"], str(new))
        expected = _expected_status(current, S(new))
        assert resp.status_code == expected, (str(current), str(new), resp.get_json())
        if expected == 409:
            assert _error(resp)["code"] == "bad_transition"
            shown = client.get(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).get_json()
            assert shown["state"] == str(current), "a refused report changes nothing"


def test_illegal_transitions_are_409_bad_transition(api, fam):
    push = _reach(api, fam, S.INSTALLED)

    resp = api.report(fam["phone"], push["id"], "downloading")

    assert resp.status_code == 409
    error = _error(resp)
    assert error["code"] == "bad_transition"
    assert "installed" in error["message"] and "downloading" in error["message"]


def test_states_a_device_cannot_report_are_400(api, fam, subtests):
    push = _push(api, fam)
    for state in ["queued", "sent", "cancelled", "expired", "bogus", "", None, 3, ["delivered"]]:
        with subtests.test(state=state):
            resp = api.client.post(f"/api/v1/pushes/{push['id']}/events", headers=fam["phone"], json={"state": state})

            assert resp.status_code == 400
            assert "state" in _error(resp)["message"]
    assert api.client.get(f"/api/v1/pushes/{push['id']}", headers=fam["phone"]).get_json()["state"] == "queued"


BAD_PROGRESS = [
    ({"bytes_done": 101, "bytes_total": 100}, "bytes_done"),
    ({"bytes_done": -1}, "bytes_done"),
    ({"bytes_total": -1}, "bytes_total"),
    ({"bytes_done": True}, "bytes_done"),
    ({"bytes_done": 1.5}, "bytes_done"),
    ({"bytes_done": "10"}, "bytes_done"),
    ({"bytes_done": 2**63}, "bytes_done"),
    ({"bytes_total": 10**30}, "bytes_total"),
    ({"detail": 5}, "detail"),
    ({"detail": ["x"]}, "detail"),
]


def test_bad_progress_numbers_are_400(client, api, fam, subtests):
    push = _reach(api, fam, S.DOWNLOADING)
    for extra, field in BAD_PROGRESS:
        with subtests.test(**{k: str(v)[:40] for k, v in extra.items()}):
            resp = api.report(fam["phone"], push["id"], "downloading", **extra)

            assert resp.status_code == 400, resp.get_json()
            assert field in _error(resp)["message"]
            shown = client.get(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).get_json()
            assert shown["bytes_done"] is None and shown["bytes_total"] is None


def test_bytes_done_beyond_an_earlier_bytes_total_is_400(client, api, fam):
    push = _reach(api, fam, S.DELIVERED)
    assert api.report(fam["phone"], push["id"], "downloading", bytes_done=10, bytes_total=100).status_code == 200

    resp = api.report(fam["phone"], push["id"], "downloading", bytes_done=500)

    assert resp.status_code == 400, resp.get_json()
    shown = client.get(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).get_json()
    assert (shown["bytes_done"], shown["bytes_total"]) == (10, 100)


def test_progress_is_stored_and_shown(client, api, fam):
    push = _reach(api, fam, S.DELIVERED)

    resp = api.report(fam["phone"], push["id"], "downloading", bytes_done=25, bytes_total=100)

    assert (resp.get_json()["bytes_done"], resp.get_json()["bytes_total"]) == (25, 100)
    paused = api.report(fam["phone"], push["id"], "paused").get_json()
    assert (paused["bytes_done"], paused["bytes_total"]) == (25, 100), "pausing keeps the progress"


def test_long_detail_is_cut_to_500_characters(api, fam):
    push = _reach(api, fam, S.DOWNLOADING)

    resp = api.report(fam["phone"], push["id"], "failed", detail="x" * 5000)

    assert resp.status_code == 200
    assert resp.get_json()["detail"] == "x" * 500


def test_repeated_delivered_is_idempotent(client, api, fam):
    push = _push(api, fam)
    first = api.report(fam["phone"], push["id"], "delivered")

    again = api.report(fam["phone"], push["id"], "delivered")

    assert first.status_code == again.status_code == 200
    assert again.get_json()["state"] == "delivered"
    history = client.get(f"/api/v1/pushes/{push['id']}", headers=fam["phone"]).get_json()["history"]
    assert [h["state"] for h in history] == ["queued", "delivered"]
    api.report(fam["phone"], push["id"], "downloading", bytes_done=1, bytes_total=10)
    late = api.report(fam["phone"], push["id"], "delivered")
    assert late.status_code == 200
    assert late.get_json()["state"] == "downloading", "a late acknowledgement does not go back"


def test_first_report_acknowledges_the_push_so_it_is_not_replayed(api, fam):
    push = _push(api, fam)
    api.report(fam["phone"], push["id"], "delivered")

    with database.connection_context():
        row = Push.get_by_id(push["id"])
    assert row.acknowledged_at is not None


def _updates(push_id: str) -> list[dict]:
    with database.connection_context():
        rows = (
            Event.select()
            .where((Event.kind == "push_update") & (Event.push == push_id) & (Event.device == "anna-laptop"))
            .order_by(Event.id)
        )
        return [json.loads(e.payload) for e in rows]


def test_sender_gets_a_push_update_event_for_each_state_change(api, fam):
    push = _push(api, fam)
    for state in ["delivered", "downloading", "verifying", "installing", "installed"]:
        api.report(fam["phone"], push["id"], state)

    updates = _updates(push["id"])

    assert [u["state"] for u in updates] == [
        "queued",
        "delivered",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]
    assert all(u["push_id"] == push["id"] and u["device_id"] == "anna-phone" for u in updates)
    assert _events("anna-phone", "push_update") == [], "updates go to the sender, not the target"


def test_download_progress_is_coalesced(api, fam):
    """Many reports with the same whole percent within a second become one update."""
    push = _reach(api, fam, S.DELIVERED)
    before = len(_updates(push["id"]))

    for done in [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]:  # all 1% of 10000
        assert (
            api.report(fam["phone"], push["id"], "downloading", bytes_done=done, bytes_total=10_000).status_code == 200
        )
    for done in [200, 300, 300]:
        api.report(fam["phone"], push["id"], "downloading", bytes_done=done, bytes_total=10_000)

    updates = _updates(push["id"])[before:]
    assert [(u["state"], u["bytes_done"]) for u in updates] == [
        ("downloading", 100),
        ("downloading", 200),
        ("downloading", 300),
    ]
    with database.connection_context():
        history = PushHistory.select().where(PushHistory.push == push["id"]).count()
    assert history == 3, "history records state changes, not every progress report"


def test_failed_reports_are_always_forwarded(api, fam):
    push = _reach(api, fam, S.DOWNLOADING)
    before = len(_updates(push["id"]))

    api.report(fam["phone"], push["id"], "failed", detail="no space")
    api.report(fam["phone"], push["id"], "failed", detail="still no space")

    assert [u["detail"] for u in _updates(push["id"])[before:]] == ["no space", "still no space"]


# --------------------------------------------------------------------------- cancelling


def test_sender_cancels_and_target_gets_a_push_cancelled_event(client, api, fam):
    push = _reach(api, fam, S.DOWNLOADING)

    resp = client.delete(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"])

    assert resp.status_code == 200
    assert resp.get_json()["state"] == "cancelled"
    assert resp.get_json()["detail"] == "cancelled by the sender"
    cancelled = _events("anna-phone", "push_cancelled")
    assert [json.loads(e.payload) for e in cancelled] == [{"push_id": push["id"]}]
    history = client.get(f"/api/v1/pushes/{push['id']}", headers=fam["phone"]).get_json()["history"]
    assert history[-1]["state"] == "cancelled"
    assert api.report(fam["phone"], push["id"], "downloading").status_code == 409


def test_cancel_is_allowed_until_verifying(client, api, fam, subtests):
    for state in PushState:
        if state is S.EXPIRED:
            continue  # expiry is the relay's own doing; no API call reaches it
        with subtests.test(state=str(state)):
            push = _reach(api, fam, state)
            cancelled_before = len(_events("anna-phone", "push_cancelled"))

            resp = client.delete(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"])

            if state in (S.VERIFYING, S.INSTALLING) or state in FINAL_STATES:
                assert resp.status_code == 409, resp.get_json()
                assert _error(resp)["code"] == "not_cancellable"
                assert len(_events("anna-phone", "push_cancelled")) == cancelled_before
            else:
                assert resp.status_code == 200, resp.get_json()
                assert len(_events("anna-phone", "push_cancelled")) == cancelled_before + 1


def test_only_the_sender_cancels(client, api, fam):
    push = _push(api, fam)

    by_target = client.delete(f"/api/v1/pushes/{push['id']}", headers=fam["phone"])
    by_stranger = client.delete(f"/api/v1/pushes/{push['id']}", headers=fam["eve"])
    by_friend = client.delete(f"/api/v1/pushes/{push['id']}", headers=fam["ben"])

    assert by_target.status_code == 403
    assert _error(by_target)["code"] == "not_sender"
    assert by_stranger.status_code == 404
    assert by_friend.status_code == 404
    assert client.get(f"/api/v1/pushes/{push['id']}", headers=fam["laptop"]).get_json()["state"] == "queued"
    assert _events("anna-phone", "push_cancelled") == []


def test_a_device_can_say_something_new_about_a_paused_push(api, client):
    """Paused "waiting for the relay", then "asking about mobile data", then paused by its
    user (an empty detail clears the old words): the sender sees each."""
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    push_id = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]
    api.report(phone, push_id, "downloading", bytes_done=10, bytes_total=100)

    api.report(phone, push_id, "paused", detail="waiting for the relay")
    api.report(phone, push_id, "paused", detail="asking about mobile data")
    shown = client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()
    assert shown["detail"] == "asking about mobile data"
    assert [h["detail"] for h in shown["history"] if h["state"] == "paused"] == [
        "waiting for the relay",
        "asking about mobile data",
    ]

    api.report(phone, push_id, "paused", detail="")
    assert client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()["detail"] is None
    repeated = api.report(phone, push_id, "paused")  # nothing new: nothing changes
    assert repeated.status_code == 200
