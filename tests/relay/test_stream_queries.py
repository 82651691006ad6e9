"""Waking thousands of streams must stay cheap: rendering a batch of push events is one query."""

from __future__ import annotations

from relay_server import events
from relay_server.db import database


def test_a_batch_of_push_events_renders_with_a_single_query(api, app, monkeypatch):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    for app_id in ("org.videolan.vlc", "org.fdroid.fdroid", "com.termux"):
        assert api.push(laptop, ["anna-phone"], app={"id": app_id}).status_code == 201
    executed = []
    real = database.obj.execute_sql
    monkeypatch.setattr(database.obj, "execute_sql", lambda sql, *a, **k: (executed.append(sql), real(sql, *a, **k))[1])

    with database.connection_context():
        rows = events.pending_for("anna-phone", None)
        texts = [events.render(row, "http://relay.example/") for row in rows]

    assert len(texts) == 3
    assert all('"sender":{"username":"anna","device_id":"anna-laptop"' in text for text in texts)
    assert len(executed) == 1, executed
