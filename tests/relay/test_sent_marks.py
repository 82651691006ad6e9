"""Pushes a stream has written become ``sent`` (history row, the sender told), in batches."""

from __future__ import annotations

import json
import time

from relay_server import push_delivery
from relay_server.db import database
from relay_server.models import Event, Push, PushHistory


def _wait_until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_queued_pushes_handed_over_by_streams_are_marked_sent(api, app, monkeypatch):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    # a catalog app to an offline phone: queued at once (the relay has the package)
    ids = [api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["id"] for _ in range(5)]
    batches = []
    real = push_delivery.mark_sent
    monkeypatch.setattr(
        push_delivery, "mark_sent", lambda relay, batch: (batches.append(list(batch)), real(relay, batch))
    )
    marks = push_delivery.sent_marks(app.extensions["appbeam_relay"])
    assert push_delivery.sent_marks(app.extensions["appbeam_relay"]) is marks

    marks.add(ids[:2])
    marks.add(ids[2:])
    marks.add([])

    def all_sent():
        with database.connection_context():
            return all(p.state == "sent" for p in Push.select().where(Push.id.in_(ids)))

    _wait_until(all_sent)
    assert sorted(i for b in batches for i in b) == sorted(ids)
    with database.connection_context():
        for push_id in ids:
            history = [
                h.state for h in PushHistory.select().where(PushHistory.push == push_id).order_by(PushHistory.id)
            ]
            assert history == ["queued", "sent"]
            push = Push.get_by_id(push_id)
            assert push.sent_at is not None and push.forwarded_at is not None
        updates = [
            json.loads(e.payload)["state"]
            for e in Event.select().where((Event.device == "anna-laptop") & (Event.kind == "push_update"))
        ]
    assert updates.count("sent") == 5
    shown = api.client.get(f"/api/v1/pushes/{ids[0]}", headers=laptop).get_json()
    assert shown["state"] == "sent" and [h["state"] for h in shown["history"]] == ["queued", "sent"]


def test_a_push_already_past_queued_is_not_marked_again(api, app):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    push_id = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]
    assert api.report(phone, push_id, "delivered").status_code == 200

    with database.connection_context():
        push_delivery.mark_sent(app.extensions["appbeam_relay"], [push_id])
        assert Push.get_by_id(push_id).state == "delivered"
        assert [h.state for h in PushHistory.select().where(PushHistory.push == push_id)] == ["queued", "delivered"]
