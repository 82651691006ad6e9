"""Download again: the phone re-opens a push it declined, the sender hears of it, and the relay
keeps (or says it no longer has) the package that needs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from relay_server.db import database, utcnow
from relay_server.models import Event, Package, Push

PASSWORD = "correct horse"


@pytest.fixture
def anna(api):
    api.account("anna")
    laptop = api.login("anna", "anna-laptop", platform="linux", name="Anna's laptop")
    phone = api.login("anna", "anna-phone", platform="android", name="Anna's Pixel")
    return laptop, phone


def _declined_push(api, laptop, phone, app=None) -> dict:
    resp = api.push(laptop, ["anna-phone"], app=app)
    assert resp.status_code == 201, resp.get_json()
    (push,) = resp.get_json()["pushes"]
    for state in ("delivered", "downloading", "declined"):
        assert api.report(phone, push["id"], state).status_code == 200
    return push


def _sender_updates(push_id: str) -> list[str]:
    with database.connection_context():
        rows = (
            Event.select()
            .where((Event.kind == "push_update") & (Event.push == push_id) & (Event.device == "anna-laptop"))
            .order_by(Event.id)
        )
        return [json.loads(e.payload)["state"] for e in rows]


def test_download_again_reaches_the_sender_and_ends_installed(api, client, anna):
    laptop, phone = anna
    push = _declined_push(api, laptop, phone)

    for state in ("downloading", "verifying", "installing", "installed"):
        resp = api.report(phone, push["id"], state)
        assert resp.status_code == 200, resp.get_json()

    shown = client.get(f"/api/v1/pushes/{push['id']}", headers=laptop).get_json()
    assert shown["state"] == "installed"
    assert _sender_updates(push["id"])[-6:] == [
        "downloading",
        "declined",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]


def test_the_sender_cannot_reopen_and_a_cancel_or_expiry_stays_final(api, client, anna):
    laptop, phone = anna
    declined = _declined_push(api, laptop, phone)
    assert api.report(laptop, declined["id"], "downloading").status_code == 403  # only the target reports

    cancelled = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]
    assert api.report(phone, cancelled["id"], "delivered").status_code == 200
    assert client.delete(f"/api/v1/pushes/{cancelled['id']}", headers=laptop).status_code == 200
    resp = api.report(phone, cancelled["id"], "downloading")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "bad_transition"

    expired = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]
    with database.connection_context():
        Push.update(state="expired").where(Push.id == expired["id"]).execute()
    assert api.report(phone, expired["id"], "downloading").status_code == 409


def _relay_copy_push(app, api, laptop, phone, body: bytes) -> tuple[dict, str]:
    """A declined push whose package is a copy the relay keeps (not a catalog app's)."""
    relay = app.extensions["appbeam_relay"]
    # No copy is made by the relay's mirror in these tests: the copy is set up by hand below, and
    # a mirror worker answering late (the made-up address fails) would overwrite it.
    relay.mirror.stop()
    with relay.store.writer() as writer:
        writer.write(body)
    sha = writer.sha256
    old = utcnow() - timedelta(seconds=relay.config.package_grace + 5)
    with database.connection_context():
        Package.create(
            sha256=sha, size=len(body), content_type="application/vnd.android.package-archive", created_at=old
        )
    push = _declined_push(
        api,
        laptop,
        phone,
        app={
            "id": "org.example.kept",
            "packages": [{"format": "apk", "url": "https://example.org/kept.apk", "sha256": sha, "size": len(body)}],
        },
    )
    with database.connection_context():  # as the mirror leaves a push it copied
        Push.update(package_url=f"/api/v1/packages/{sha}", package_sha256=sha, mirror_status="done").where(
            Push.id == push["id"]
        ).execute()
    return push, sha


def test_housekeeping_keeps_a_declined_push_package_while_it_may_be_reopened(app, api, client, anna):
    laptop, phone = anna
    relay = app.extensions["appbeam_relay"]
    push, sha = _relay_copy_push(app, api, laptop, phone, b"a package declined a minute ago" * 100)

    relay.janitor.run_once()
    assert relay.store.has(sha), "collected while the phone may still tap Download again"

    # Declined longer ago than a queued push is kept: the copy goes, and re-opening says why.
    with database.connection_context():
        Push.update(updated_at=utcnow() - timedelta(seconds=relay.config.queue_ttl + 5)).where(
            Push.id == push["id"]
        ).execute()
    assert relay.janitor.run_once()["packages_removed"] == 1
    assert not relay.store.has(sha)

    resp = api.report(phone, push["id"], "downloading")
    assert resp.status_code == 410
    assert resp.get_json()["error"]["code"] == "package_gone"
    assert client.get(f"/api/v1/pushes/{push['id']}", headers=laptop).get_json()["state"] == "declined"


def test_a_reopened_push_keeps_its_package_through_housekeeping(app, api, client, anna):
    laptop, phone = anna
    relay = app.extensions["appbeam_relay"]
    push, sha = _relay_copy_push(app, api, laptop, phone, b"a package downloaded again" * 100)
    with database.connection_context():
        Push.update(updated_at=utcnow() - timedelta(seconds=relay.config.queue_ttl - 60)).where(
            Push.id == push["id"]
        ).execute()
    assert api.report(phone, push["id"], "downloading").status_code == 200

    relay.janitor.run_once()

    assert relay.store.has(sha)
    resp = client.get(f"/api/v1/packages/{sha}", headers=phone)
    try:
        assert resp.status_code == 200
    finally:
        resp.close()
