"""Housekeeping: queued pushes expire after the configured time; old updates are trimmed."""

from __future__ import annotations

from datetime import timedelta

from relay_server.db import database, utcnow
from relay_server.models import Event, Push


def test_queued_push_expires_and_sender_is_told(app, api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    push = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]
    fresh = api.push(laptop, ["anna-phone"], app={"id": "org.fdroid.fdroid"}).get_json()["pushes"][0]
    relay = app.extensions["appbeam_relay"]
    with database.connection_context():
        Push.update(created_at=utcnow() - timedelta(seconds=relay.config.queue_ttl + 5)).where(
            Push.id == push["id"]
        ).execute()

    assert relay.janitor.run_once()["expired"] == 1

    shown = client.get(f"/api/v1/pushes/{push['id']}", headers=laptop).get_json()
    assert shown["state"] == "expired"
    assert shown["history"][-1]["state"] == "expired"
    assert client.get(f"/api/v1/pushes/{fresh['id']}", headers=laptop).get_json()["state"] == "queued"
    with database.connection_context():
        kinds = [(e.kind, e.payload) for e in Event.select().where(Event.push == push["id"])]
    assert any(kind == "push_update" and '"expired"' in payload for kind, payload in kinds)


def test_old_updates_of_finished_pushes_are_trimmed_but_pushes_kept(app, api, client):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    push = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]
    for state in ("delivered", "already_installed"):
        assert api.report(phone, push["id"], state).status_code == 200
    relay = app.extensions["appbeam_relay"]
    with database.connection_context():
        Event.update(created_at=utcnow() - timedelta(seconds=relay.config.event_retention + 5)).execute()

    assert relay.janitor.run_once()["events_removed"] >= 3

    with database.connection_context():
        assert Event.select().where((Event.push == push["id"]) & (Event.kind == "push_update")).count() == 0
    assert client.get(f"/api/v1/pushes/{push['id']}", headers=laptop).get_json()["state"] == "already_installed"


def test_copies_no_unfinished_push_uses_are_deleted_catalog_kept(app, api, client):
    from relay_server.models import Package

    relay = app.extensions["appbeam_relay"]
    with relay.store.writer() as writer:
        writer.write(b"an orphaned copy" * 100)
    orphan = writer.sha256
    with relay.store.writer() as writer:
        writer.write(b"a copy a queued push still needs" * 100)
    needed = writer.sha256
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    api.push(
        laptop,
        ["anna-phone"],
        app={
            "id": "org.example.app",
            "packages": [{"format": "apk", "url": "https://example.org/app.apk", "sha256": needed}],
        },
    )
    old = utcnow() - timedelta(seconds=relay.config.package_grace + 5)
    with database.connection_context():
        for sha in (orphan, needed):
            Package.create(sha256=sha, size=1600, content_type="application/octet-stream", created_at=old)
        catalog_count = Package.select().count() - 2

    assert relay.janitor.run_once()["packages_removed"] == 1

    assert not relay.store.has(orphan)
    assert relay.store.has(needed)
    with database.connection_context():
        assert Package.select().count() == catalog_count + 1
