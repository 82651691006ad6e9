"""Who may do what with a push and its package: one table, every actor, every operation."""

from __future__ import annotations

import hashlib

import pytest

from relay_server.db import database
from relay_server.models import Package, Push


@pytest.fixture
def scene(client, api):
    """anna-laptop pushed F-Droid (catalog) to anna-phone.

    ben is anna's friend, carl asked anna (pending), eve is a stranger, anna-tablet is anna's
    other device, and the phone has a second token that it logged out (revoked).
    """
    for name in ("anna", "ben", "carl", "eve"):
        api.account(name)
    actors = {
        "sender": api.login("anna", "anna-laptop", platform="linux"),
        "target": api.login("anna", "anna-phone"),
        "own_other_device": api.login("anna", "anna-tablet"),
        "accepted_friend": api.login("ben", "ben-phone"),
        "pending_friend": api.login("carl", "carl-phone"),
        "stranger": api.login("eve", "eve-phone"),
        "no_token": {},
    }
    revoked = api.login("anna", "anna-phone")
    assert client.post("/api/v1/logout", headers=revoked).status_code == 204
    actors["revoked_token"] = revoked
    api.befriend("anna", actors["sender"], "ben", actors["accepted_friend"])
    assert (
        client.post("/api/v1/friends", json={"username": "anna"}, headers=actors["pending_friend"]).status_code == 201
    )
    push = api.push(actors["sender"], ["anna-phone"], app={"id": "org.fdroid.fdroid"}).get_json()["pushes"][0]
    return {"actors": actors, "push_id": push["id"], "sha": push["package"]["sha256"]}


OPERATIONS = {
    "show": lambda c, s, h: c.get(f"/api/v1/pushes/{s['push_id']}", headers=h),
    "report": lambda c, s, h: c.post(f"/api/v1/pushes/{s['push_id']}/events", json={"state": "delivered"}, headers=h),
    "cancel": lambda c, s, h: c.delete(f"/api/v1/pushes/{s['push_id']}", headers=h),
    "package": lambda c, s, h: c.get(f"/api/v1/packages/{s['sha']}", headers=h),
}

#: actor -> (show, report, cancel, package); a package not theirs is 404, as one the relay does not keep.
MATRIX = {
    "sender": (200, 403, 200, 404),
    "target": (200, 200, 403, 200),
    "own_other_device": (404, 404, 404, 404),
    "accepted_friend": (404, 404, 404, 404),
    "pending_friend": (404, 404, 404, 404),
    "stranger": (404, 404, 404, 404),
    "no_token": (401, 401, 401, 401),
    "revoked_token": (401, 401, 401, 401),
}


@pytest.mark.parametrize("actor", list(MATRIX))
def test_authorization_matrix(client, api, scene, actor, subtests):
    """Each operation on a fresh push (a cancel must not hide what the next call would do)."""
    for index, operation in enumerate(OPERATIONS):
        expected = MATRIX[actor][index]
        with subtests.test(operation=operation, expected=expected):
            push = api.push(scene["actors"]["sender"], ["anna-phone"], app={"id": "org.fdroid.fdroid"}).get_json()[
                "pushes"
            ][0]
            case = {**scene, "push_id": push["id"]}

            resp = OPERATIONS[operation](client, case, scene["actors"][actor])
            try:
                status = resp.status_code
                body = resp.get_json(silent=True) if status != 200 or operation != "package" else None
            finally:
                resp.close()

            assert status == expected, (actor, operation, body)
            if status >= 400:
                assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
            with database.connection_context():
                state_after = Push.get_by_id(push["id"]).state
            if status != 200 or operation in ("show", "package"):
                assert state_after == push["state"], "a refused or read-only call changes nothing"


def test_not_found_answers_do_not_reveal_that_a_push_exists(client, scene):
    """A stranger gets the same answer for a real push as for one that does not exist."""
    stranger = scene["actors"]["stranger"]

    real = client.get(f"/api/v1/pushes/{scene['push_id']}", headers=stranger)
    fake = client.get("/api/v1/pushes/p_000000000000000000000000", headers=stranger)

    assert real.status_code == fake.status_code == 404
    assert real.get_json()["error"]["code"] == fake.get_json()["error"]["code"]


def test_friend_cannot_list_anothers_pushes(client, scene):
    for actor in ("accepted_friend", "stranger", "own_other_device"):
        headers = scene["actors"][actor]
        for role in ("sent", "received"):
            pushes = client.get(f"/api/v1/pushes?role={role}", headers=headers).get_json()["pushes"]
            assert pushes == [], (actor, role)


def test_claiming_someone_elses_package_hash_does_not_unlock_it(client, api, scene, app):
    """A package the relay mirrored for anna's push is private to that push's device.

    eve only knows its SHA-256; naming it in a push to her own phone must not let her phone
    download anna's copy (the relay never checked that eve's URL serves those bytes).
    """
    relay = app.extensions["appbeam_relay"]
    private = b"anna's private build " * 500
    with relay.store.writer() as writer:
        writer.write(private)
    sha = writer.sha256
    with database.connection_context():
        Package.create(sha256=sha, size=len(private), content_type="application/vnd.android.package-archive")
    anna = api.push(
        scene["actors"]["sender"],
        ["anna-phone"],
        app={
            "id": "com.anna.private",
            "packages": [{"format": "apk", "url": "https://builds.anna.example/private.apk", "sha256": sha}],
        },
    )
    assert anna.status_code == 201
    eve_laptop = api.login("eve", "eve-laptop", platform="linux")
    claim = api.push(
        eve_laptop,
        ["eve-phone"],
        app={
            "id": "com.eve.grab",
            "packages": [{"format": "apk", "url": "https://eve.example/anything.apk", "sha256": sha}],
        },
    )
    assert claim.status_code in (201, 400, 403)
    assert relay.mirror.wait_idle()

    resp = client.get(f"/api/v1/packages/{sha}", headers=scene["actors"]["stranger"])
    try:
        leaked = resp.status_code == 200 and resp.get_data() == private
    finally:
        resp.close()

    assert not leaked, "eve's phone downloaded anna's privately mirrored package by naming its hash"
    assert hashlib.sha256(private).hexdigest() == sha
